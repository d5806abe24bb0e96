#!/usr/bin/env node
// bench/qemu/run.mjs — QEMU builds: imgc vs the raw floor vs Packer 1.6.6's qemu builder, on
// the tiny test VM (test/vm/build-tiny.sh) under TCG, plus derived-image start time against
// the base's size. Prints figures and ratios; asserts nothing (machines are noisy).
//
//   node bench/qemu/run.mjs [--runs N] [--no-packer] [--no-sizes] [--no-main] [--sizes=1,8] [--copy-all]
//
// Each scenario does the same work: overlay on the source disk, direct kernel boot, wait for
// SSH (the floor polls for the `SSH-` banner every 100 ms, as imgc does), one provisioning
// command, `poweroff`, then `qemu-img convert` to a standalone qcow2.
//  - floor:  the same qemu command line run by hand from this script, ssh(1) for the commands;
//  - imgc:   `imgc apply` of an equivalent images.ts (SSH-ready = its "SSH ready" line);
//  - packer: `packer build` of an equivalent qemu template (SSH-ready = "Connected to SSH!").
// Sizes: a derived image built `from` a base holding 1 GiB vs 8 GiB of data: time to SSH ready
// with the overlay (imgc's default) and with a full copy (useBackingFile: false).
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const repo = join(import.meta.dirname, "..", "..");
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf("--runs") + 1] || 1) || 1;
const withPacker = !args.includes("--no-packer");
const withSizes = !args.includes("--no-sizes");
const vmDir = execFileSync(join(repo, "test/vm/build-tiny.sh"), { encoding: "utf8" }).trim().split("\n").pop();
const vm = JSON.parse(readFileSync(join(vmDir, "vm.json"), "utf8"));
const work = mkdtempSync(join(tmpdir(), "imgc-bench-qemu-"));
const now = () => performance.now() / 1000;
const PROVISION = "echo bench > /etc/bench-marker; sync";
const sshOpts = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-i", vm.privateKeyFile];

function freePort() {
  return 20000 + Math.floor(Math.random() * 20000);
}

function banner(port) {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    let buf = "";
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(2000, () => done(false));
    s.on("data", (d) => {
      buf += d;
      if (buf.includes("SSH-")) done(true);
    });
    s.on("error", () => done(false));
    s.on("close", () => done(false));
  });
}

function run(cmd, argv, opts = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"], ...opts });
    let out = "";
    p.stdout.on("data", (d) => {
      out += d;
      opts.onLine?.(String(d));
    });
    p.stderr.on("data", (d) => {
      out += d;
      opts.onLine?.(String(d));
    });
    p.on("error", reject);
    p.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}:\n${out.slice(-2000)}`))));
  });
}

/** The raw floor: by hand. */
async function floor(dir) {
  const t0 = now();
  const disk = join(dir, "floor.qcow2");
  execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", vm.disk, disk]);
  const port = freePort();
  const q = spawn("qemu-system-x86_64", [
    "-machine", "pc,accel=tcg", "-cpu", "max", "-smp", "1", "-m", "256M", "-nodefaults", "-vga", "std", "-display", "none",
    "-serial", `file:${join(dir, "floor-serial.log")}`, "-no-user-config",
    "-drive", `file=${disk},format=qcow2,cache=writeback,discard=unmap,if=virtio,index=0`,
    "-kernel", vm.kernel, "-initrd", vm.initrd, "-append", vm.append,
    "-netdev", `user,id=net0,hostfwd=tcp:127.0.0.1:${port}-:22`, "-device", "virtio-net-pci,netdev=net0",
  ], { stdio: "ignore" });
  const exited = new Promise((r) => q.on("close", r));
  while (!(await banner(port))) await new Promise((r) => setTimeout(r, 100));
  const ready = now() - t0;
  await run("ssh", [...sshOpts, "-p", String(port), "root@127.0.0.1", PROVISION]);
  await run("ssh", [...sshOpts, "-p", String(port), "root@127.0.0.1", "poweroff"]).catch(() => {});
  await exited;
  execFileSync("qemu-img", ["convert", "-q", "-O", "qcow2", disk, join(dir, "floor-out.qcow2")]);
  return { ready, total: now() - t0 };
}

function imagesTs(extra = "", source = `sourceImage: ${JSON.stringify(vm.disk)},`) {
  return `import { image } from "imgc";
import { qemu } from "imgc/platforms/qemu";
import { shell } from "imgc/provisioners";
export default image("bench", {
  platforms: [qemu({
    ${source}
    kernel: ${JSON.stringify(vm.kernel)}, initrd: ${JSON.stringify(vm.initrd)}, append: ${JSON.stringify(vm.append)},
    accelerator: "tcg", memory: 256,
    ssh: { username: "root", privateKeyFile: ${JSON.stringify(vm.privateKeyFile)}, timeout: "5m" },
    shutdownCommand: "poweroff", outputDirectory: "out",
    ${extra}
  })],
  provision: [shell({ inline: [${JSON.stringify(PROVISION)}] })],
});
`;
}

/** imgc apply of the same build. */
async function imgc(dir, content = imagesTs()) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "images.ts"), content);
  const t0 = now();
  let ready;
  await run("node", [join(repo, "bin/imgc.js"), "apply", "images.ts"], {
    cwd: dir,
    env: { ...process.env, CI: "1" },
    onLine: (s) => {
      if (ready === undefined && s.includes("SSH ready")) ready = now() - t0;
    },
  });
  return { ready, total: now() - t0 };
}

/** Packer 1.6.6's qemu builder on the same disk and provisioning. */
async function packer(dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const template = {
    builders: [{
      type: "qemu",
      // use_backing_file would be the same overlay, but Packer 1.6.6 calls `qemu-img create -b`
      // without the backing format that qemu-img >= 6.1 requires; it copies the (14 MB) disk.
      iso_url: vm.disk, iso_checksum: "none", disk_image: true, use_backing_file: false, format: "qcow2",
      accelerator: "tcg", headless: true, memory: 256, cpus: 1, net_device: "virtio-net", disk_interface: "virtio",
      output_directory: join(dir, "out"), vm_name: "bench.qcow2", boot_wait: "0s",
      qemuargs: [["-kernel", vm.kernel], ["-initrd", vm.initrd], ["-append", vm.append], ["-cpu", "max"]],
      // The tiny guest (dropbear) has no scp binary; its SFTP server is OpenSSH's sftp-server.
      ssh_file_transfer_method: "sftp",
      communicator: "ssh", ssh_username: "root", ssh_private_key_file: vm.privateKeyFile, ssh_timeout: "5m",
      shutdown_command: "poweroff",
    }],
    provisioners: [{ type: "shell", inline: [PROVISION] }],
  };
  writeFileSync(join(dir, "bench.json"), JSON.stringify(template, null, 2));
  const t0 = now();
  let ready;
  await run("packer", ["build", "-color=false", "bench.json"], {
    cwd: dir,
    env: { ...process.env, PACKER_CACHE_DIR: join(dir, "cache"), CHECKPOINT_DISABLE: "1" },
    onLine: (s) => {
      if (ready === undefined && s.includes("Connected to SSH!")) ready = now() - t0;
    },
  });
  return { ready, total: now() - t0 };
}

/** A base disk holding `gib` GiB of data (past the root filesystem, which stays intact). */
function baseOf(gib) {
  const path = join(work, `base-${gib}g.qcow2`);
  execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", vm.disk, join(work, "tmp.qcow2"), `${gib + 1}G`]);
  // One write request is limited to under 2 GiB: write 1 GiB at a time.
  const writes = Array.from({ length: gib }, (_, i) => ["-c", `write -P 0xab ${512 + 1024 * i}M 1G`]).flat();
  execFileSync("qemu-io", ["-f", "qcow2", ...writes, join(work, "tmp.qcow2")], { stdio: "ignore" });
  execFileSync("qemu-img", ["convert", "-q", "-O", "qcow2", join(work, "tmp.qcow2"), path]);
  rmSync(join(work, "tmp.qcow2"));
  return path;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x) => (x === undefined ? "–" : x.toFixed(2));

try {
  execFileSync("npm", ["run", "build:js"], { cwd: repo, stdio: "ignore" });
  const results = { floor: [], imgc: [], packer: [] };
  for (let i = 0; i < (args.includes("--no-main") ? 0 : runs); i++) {
    results.floor.push(await floor(work));
    results.imgc.push(await imgc(join(work, "imgc")));
    if (withPacker) results.packer.push(await packer(join(work, "packer")).catch((e) => (console.error(`packer failed: ${e.message.slice(0, 600)}`), undefined)));
  }
  const row = (name, rs) => {
    const ok = rs.filter(Boolean);
    return ok.length ? { name, ready: median(ok.map((r) => r.ready)), total: median(ok.map((r) => r.total)) } : { name };
  };
  if (!args.includes("--no-main")) {
  const rows = [row("raw floor (qemu by hand)", results.floor), row("imgc apply", results.imgc), ...(withPacker ? [row("Packer 1.6.6 qemu", results.packer)] : [])];
  const f = rows[0];
  console.log(`\nQEMU build of the tiny VM under TCG, median of ${runs} run(s), seconds`);
  console.log("| | start → SSH ready | total build | ready vs floor | total vs floor |");
  console.log("|---|---|---|---|---|");
  for (const r of rows) console.log(`| ${r.name} | ${fmt(r.ready)} | ${fmt(r.total)} | ${r.ready ? `+${(r.ready - f.ready).toFixed(2)} s` : "–"} | ${r.total ? `×${(r.total / f.total).toFixed(2)}` : "–"} |`);
  }

  if (withSizes) {
    console.log("\nDerived image: start → SSH ready against the base's size (imgc apply), seconds");
    console.log("| base data | overlay (default) | full copy (useBackingFile: false) |");
    console.log("|---|---|---|");
    const sizesArg = args.find((a) => a.startsWith("--sizes="));
    for (const gib of sizesArg ? sizesArg.slice(8).split(",").map(Number) : [1, 8]) {
      const base = baseOf(gib);
      const src = `sourceImage: ${JSON.stringify(base)},`;
      // keepBackingFile: the output stays an overlay too, so the run is not dominated by
      // writing and hashing a standalone copy of the base's data after the build.
      const overlay = await imgc(join(work, `size-${gib}`), imagesTs("keepBackingFile: true,", src));
      const copy = gib === 1 || args.includes("--copy-all") ? await imgc(join(work, `size-${gib}-copy`), imagesTs("useBackingFile: false, skipCompaction: true,", src)) : undefined;
      console.log(`| ${gib} GiB | ${fmt(overlay.ready)} | ${fmt(copy?.ready)} |`);
      rmSync(base, { force: true });
      rmSync(join(work, `size-${gib}`), { recursive: true, force: true });
      rmSync(join(work, `size-${gib}-copy`), { recursive: true, force: true });
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
