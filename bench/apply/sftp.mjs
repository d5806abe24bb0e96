#!/usr/bin/env node
// Benchmark: imgc's SSH transfers vs OpenSSH's scp (which speaks SFTP) to the same sshd.
// Goal: at least 70% of scp's throughput. Payload (the Packer bench's `files` shape): one
// 64 MiB file and a directory of 200 files of 4 KiB, deterministic bytes.
//
//   node bench/apply/sftp.mjs [--runs 5] [--concurrency 64] [--chunk 65536] [--cipher aes128-gcm@openssh.com]
//
// Runs as root: starts its own sshd on a loopback port with its own host key, logging in as a
// throwaway uid-0 user whose shell is /bin/sh (so the host's root dotfiles do not run), all
// removed at exit. Needs `npm run build:js` first (imports dist/). Runs are interleaved
// (imgc, scp, imgc, scp…); each scp run pays its own connection, so imgc is measured both on an
// open session (as provisioners use it) and with a fresh connection per run.
import { execFileSync, spawn } from "node:child_process";
import { createCipheriv, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";

const repo = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const { SshCommunicator } = await import(join(repo, "dist/runtime/communicators/ssh.js"));
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const runs = Number(arg("runs", 5));
const concurrency = Number(arg("concurrency", 64));
const chunk = Number(arg("chunk", 64 * 1024));
const cipher = arg("cipher", undefined);

const dir = mkdtempSync(join(tmpdir(), "imgc-bench-sftp-"));
const user = `imgcb${randomBytes(3).toString("hex")}`;
let sshd;
const cleanup = () => {
  sshd?.kill("SIGKILL");
  try {
    execFileSync("userdel", ["-f", user], { stdio: "ignore" });
  } catch {}
  rmSync(dir, { recursive: true, force: true });
};
process.on("exit", cleanup);
process.on("SIGINT", () => process.exit(130));
process.on("SIGTERM", () => process.exit(143));

// Deterministic payload: AES-128-CTR keystream under a per-file key, like make-payload.sh.
function bytes(seed, n) {
  const key = Buffer.alloc(16);
  key.write(seed.slice(0, 16));
  return createCipheriv("aes-128-ctr", key, Buffer.alloc(16)).update(Buffer.alloc(n));
}
const payload = join(dir, "payload");
mkdirSync(join(payload, "small"), { recursive: true });
for (let i = 0; i < 200; i++) writeFileSync(join(payload, "small", `f${String(i).padStart(3, "0")}`), bytes(`small${i}`, 4096));
const big = join(payload, "big.bin");
writeFileSync(big, bytes("big", 64 * 1024 * 1024));

// sshd
mkdirSync("/run/sshd", { recursive: true });
execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_key")]);
execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "client_key")]);
writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "client_key.pub")));
mkdirSync(join(dir, "home"));
execFileSync("useradd", ["-o", "-u", "0", "-g", "0", "-p", "*", "-M", "-d", join(dir, "home"), "-s", "/bin/sh", user]);
const port = 20000 + Math.floor(Math.random() * 20000);
writeFileSync(
  join(dir, "sshd_config"),
  [`Port ${port}`, "ListenAddress 127.0.0.1", `HostKey ${join(dir, "host_key")}`, `AuthorizedKeysFile ${join(dir, "authorized_keys")}`, `PidFile ${join(dir, "sshd.pid")}`,
   "StrictModes no", "PermitRootLogin yes", "PasswordAuthentication no", "UsePAM no", "Subsystem sftp internal-sftp", "MaxSessions 64"].join("\n") + "\n",
);
sshd = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", join(dir, "sshd_config")], { stdio: "ignore" });
for (let i = 0; i < 200; i++) {
  const up = await new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("data", (d) => (s.destroy(), resolve(String(d).startsWith("SSH-"))));
    s.once("error", () => resolve(false));
  });
  if (up) break;
  await new Promise((r) => setTimeout(r, 50));
}

const key = readFileSync(join(dir, "client_key"), "utf8");
const makeComm = () => {
  const c = new SshCommunicator({ host: "127.0.0.1", port, username: user, privateKey: key, timeoutMs: 30_000, keepaliveIntervalMs: 0, sftpConcurrency: concurrency, ...(cipher ? { ciphers: [cipher] } : {}) });
  c.tuning = { ...c.tuning, chunkSize: chunk };
  return c;
};
const never = new AbortController().signal;
const dest = join(dir, "dest");
const fresh = () => {
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest);
};
const scpArgs = ["-q", "-i", join(dir, "client_key"), "-P", String(port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes"];
const time = async (fn, name) => {
  fresh();
  const t0 = process.hrtime.bigint();
  // A stuck transfer must say which one it was rather than hang the bench.
  let timer;
  const watchdog = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${name}: no result after 120 s`)), 120_000)));
  await Promise.race([fn(), watchdog]).finally(() => clearTimeout(timer));
  return Number(process.hrtime.bigint() - t0) / 1e6;
};

const session = makeComm();
await session.connect(never);
const cases = {
  "file: imgc (open session)": () => session.upload(join(dest, "big.bin"), big, {}, never),
  "file: imgc (+connect)": async () => {
    const c = makeComm();
    await c.connect(never);
    await c.upload(join(dest, "big.bin"), big, {}, never);
    await c.close();
  },
  "file: scp": () => execFileSync("scp", [...scpArgs, big, `${user}@127.0.0.1:${dest}/big.bin`]),
  "dir: imgc tar (open session)": () => session.uploadDir(dest, join(payload, "small"), {}, never),
  "dir: imgc tar (+connect)": async () => {
    const c = makeComm();
    await c.connect(never);
    await c.uploadDir(dest, join(payload, "small"), {}, never);
    await c.close();
  },
  "dir: imgc sftp-only (open session)": async () => {
    session.tarForDirectories = false;
    try {
      await session.uploadDir(dest, join(payload, "small"), {}, never);
    } finally {
      session.tarForDirectories = true;
    }
  },
  "dir: scp -r": () => execFileSync("scp", [...scpArgs, "-r", join(payload, "small"), `${user}@127.0.0.1:${dest}/`]),
};
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
// Warm-up (page cache, sshd's first fork), not counted.
const verbose = process.argv.includes("--verbose");
for (const [name, fn] of Object.entries(cases)) {
  const ms = await time(fn, name);
  if (verbose) console.error(`warm-up ${name}: ${ms.toFixed(0)} ms`);
}
for (let r = 0; r < runs; r++) for (const [name, fn] of Object.entries(cases)) times[name].push(await time(fn, name));
await session.close();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const MiB = 1024 * 1024;
const sizes = { file: 64 * MiB, dir: 200 * 4096 };
console.log(`sftp bench: ${runs} interleaved runs, concurrency ${concurrency}, chunk ${chunk}, cipher ${cipher ?? "ssh2 default"}; ${cpus().length} cpus, load ${loadavg()[0].toFixed(1)}`);
const med = {};
for (const [name, xs] of Object.entries(times)) {
  med[name] = median(xs);
  const size = sizes[name.split(":")[0]];
  console.log(`${name.padEnd(36)} median ${med[name].toFixed(0).padStart(6)} ms  ${(size / MiB / (med[name] / 1000)).toFixed(1).padStart(7)} MiB/s   runs: ${xs.map((x) => x.toFixed(0)).join(" ")}`);
}
const ratio = (a, b) => `${((med[b] / med[a]) * 100).toFixed(0)}%`;
console.log(`throughput vs scp (goal >= 70%):`);
console.log(`  64 MiB file:  open session ${ratio("file: imgc (open session)", "file: scp")}, with connect ${ratio("file: imgc (+connect)", "file: scp")}`);
console.log(`  200 files:    tar open session ${ratio("dir: imgc tar (open session)", "dir: scp -r")}, tar with connect ${ratio("dir: imgc tar (+connect)", "dir: scp -r")}, sftp-only open session ${ratio("dir: imgc sftp-only (open session)", "dir: scp -r")}`);
// The sshd child keeps the event loop alive: exit explicitly (the exit handler stops it).
process.exit(0);
