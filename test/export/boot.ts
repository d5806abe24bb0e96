/**
 * Boots a disk in QEMU (TCG, `-smp 1 -cpu max`) with the tiny VM's kernel and initramfs, waits
 * for the guest's SSH banner, and runs a command over SSH. The VM is always killed and waited
 * for, whatever happens.
 */
import { execa, type ResultPromise } from "execa";
import { readFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { Client } from "ssh2";
import type { TestVm } from "../vm/paths.js";

/** A free loopback port. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** Reads the first bytes the server sends on `port`; "" when it closes or stays silent. */
function banner(port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(port, "127.0.0.1");
    let data = "";
    const done = () => { sock.destroy(); resolve(data); };
    sock.setTimeout(3000, done);
    sock.on("data", (c) => { data += c.toString("latin1"); if (data.includes("\n")) done(); });
    sock.on("error", done);
    sock.on("close", done);
  });
}

/** Runs `command` over SSH as the VM's user with its key; returns stdout. */
export async function sshRun(vm: TestVm, port: number, command: string): Promise<string> {
  const key = await readFile(vm.privateKeyFile);
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.on("ready", () => {
      client.exec(command, (err, stream) => {
        if (err) { client.end(); return reject(err); }
        let out = "";
        stream.on("data", (c: Buffer) => (out += c.toString()));
        stream.stderr.on("data", () => {});
        stream.on("close", (code: number) => { client.end(); code === 0 ? resolve(out) : reject(new Error(`${command} exited ${code}`)); });
      });
    });
    client.on("error", reject);
    client.connect({ host: "127.0.0.1", port, username: vm.username, privateKey: key, readyTimeout: 30_000 });
  });
}

/** PIDs of QEMU processes started here and not yet reaped (a test asserts it ends empty). */
export const liveQemu = new Set<number>();

/**
 * Boots `disk` (read through QEMU's `format` driver, writes to a throw-away overlay) and calls
 * `use(port)` once the guest's SSH server answers with its banner.
 */
export async function withBootedDisk<T>(vm: TestVm, disk: { path: string; format: string }, serialLog: string, use: (port: number) => Promise<T>): Promise<T> {
  const port = await freePort();
  const qemu: ResultPromise = execa("qemu-system-x86_64", [
    "-machine", "q35,accel=tcg", "-smp", "1", "-cpu", "max", "-m", "256",
    "-nodefaults", "-display", "none", "-no-reboot",
    "-serial", `file:${serialLog}`,
    "-kernel", vm.kernel, "-initrd", vm.initrd, "-append", vm.append,
    "-drive", `file=${disk.path},format=${disk.format},if=virtio,snapshot=on`,
    "-netdev", `user,id=n0,hostfwd=tcp:127.0.0.1:${port}-:22`, "-device", "virtio-net-pci,netdev=n0",
  ], { reject: false, stdin: "ignore" });
  liveQemu.add(qemu.pid!);
  let exited = false;
  const exit = qemu.then((r) => { exited = true; return r; });
  try {
    const deadline = Date.now() + 180_000;
    for (;;) {
      if (exited) {
        const r = await exit;
        throw new Error(`QEMU exited before SSH came up (${r.exitCode}): ${r.stderr}\n${await readFile(serialLog, "utf8").catch(() => "")}`);
      }
      if ((await banner(port)).startsWith("SSH-2.0-")) break;
      if (Date.now() > deadline) throw new Error(`no SSH banner from the guest within 180 s; serial log:\n${await readFile(serialLog, "utf8").catch(() => "")}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    return await use(port);
  } finally {
    qemu.kill("SIGKILL");
    await exit;
    liveQemu.delete(qemu.pid!);
  }
}
