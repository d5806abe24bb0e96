/**
 * Step "start-vm": picks the forwarded SSH (and VNC) ports, starts QEMU with a QMP socket and
 * the serial console in a log file, and watches for an early exit. Its cleanup kills the VM if
 * it still runs, whatever the outcome (a clean build has powered it off already), and keeps
 * the serial log where `serialLog` asks.
 */
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Step } from "../../../types.js";
import { qemuArgs } from "../args.js";
import type { QemuContext } from "../context.js";
import { pickFreePort } from "../ports.js";

/** The unix socket path must stay short (108 bytes): it lives in its own /tmp directory. */
const socketDirs = new WeakMap<QemuContext, string>();

export const startVmStep: Step<QemuContext> = {
  name: "start-vm",
  async run(ctx, signal) {
    const c = ctx.config;
    // Named after the VM so a leak is attributable; short, for the 108-byte socket path limit.
    const sockDir = await mkdtemp(join(tmpdir(), `imgc-qmp-${c.vmName.slice(0, 24)}-`));
    socketDirs.set(ctx, sockDir);
    const qmpSocket = join(sockDir, "qmp.sock");
    const tried = new Set<number>();
    for (let attempt = 1; ; attempt++) {
      if (c.communicator === "ssh") {
        ctx.sshHostPort = await pickFreePort(c.sshHostPortRange, "127.0.0.1", tried);
        tried.add(ctx.sshHostPort);
      }
      if (!c.headless) ctx.vncPort = await pickFreePort(c.vncPortRange, c.vncBindAddress);
      const args = qemuArgs(c, {
        accel: ctx.accelerator?.accel ?? "tcg",
        disk: ctx.disk!.path,
        diskFormat: ctx.disk!.format,
        iso: ctx.iso,
        cd: ctx.cd,
        floppyDir: ctx.floppyDir,
        efiVars: ctx.efiVars,
        qmpSocket,
        serialLog: ctx.serialLog,
        sshHostPort: ctx.sshHostPort,
        sshGuestPort: 22,
        vncDisplay: ctx.vncPort !== undefined ? ctx.vncPort - 5900 : undefined,
        name: c.vmName,
      });
      ctx.env.log.log("debug", `${c.qemuBinary} ${args.join(" ")}`);
      try {
        ctx.vm = await ctx.backend.start({ binary: c.qemuBinary, args, qmpSocket }, signal);
      } catch (error) {
        // Another process took the port between the check and QEMU's bind: pick again.
        if (attempt < 4 && /hostfwd|host forwarding|Address already in use|vnc/i.test((error as Error).message) && !signal.aborted) continue;
        throw new Error(`${c.nodeId}: the VM did not start: ${(error as Error).message}`);
      }
      break;
    }
    const vm = ctx.vm!;
    ctx.env.facts.instanceId = String(vm.pid);
    ctx.env.log.track({ kind: "vm", id: `qemu pid ${vm.pid}` });
    ctx.env.log.log("info", `VM started (pid ${vm.pid}${ctx.sshHostPort ? `, ssh on 127.0.0.1:${ctx.sshHostPort}` : ""}${ctx.vncPort ? `, vnc on ${c.vncBindAddress}:${ctx.vncPort}` : ""})`);
    void vm.exited.then((exit) => {
      if (!ctx.poweredOff && ctx.vm === vm) {
        ctx.env.log.log("debug", `QEMU exited (code ${exit.code}, signal ${exit.signal})`);
      }
    });
  },
  async cleanup(ctx) {
    const vm = ctx.vm;
    if (vm) {
      if (!vm.exitStatus()) {
        ctx.env.log.log("info", `stopping VM (pid ${vm.pid})`);
        await vm.kill();
      }
      vm.qmp.close();
      ctx.env.log.untrack({ kind: "vm", id: `qemu pid ${vm.pid}` });
      ctx.vm = undefined;
    }
    const dir = socketDirs.get(ctx);
    if (dir) {
      await rm(dir, { recursive: true, force: true });
      socketDirs.delete(ctx);
    }
    if (ctx.config.serialLog) {
      await mkdir(dirname(ctx.config.serialLog), { recursive: true });
      await copyFile(ctx.serialLog, ctx.config.serialLog).catch(() => undefined);
    }
  },
};
