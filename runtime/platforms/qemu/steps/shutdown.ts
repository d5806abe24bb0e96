/**
 * Step "shutdown": powers the guest off cleanly so its filesystem is consistent: the
 * `shutdownCommand` over the communicator, or the ACPI power button (QMP `system_powerdown`,
 * pressed again every 15 s since a guest still booting may miss it). When the VM is not gone
 * within `shutdownTimeout` it is killed and the build fails: a disk from a VM that did not shut
 * down cleanly is not an image.
 */
import type { Step } from "../../../types.js";
import type { QemuContext } from "../context.js";
import { serialTail } from "./wait-ssh.js";

const PRESS_AGAIN_MS = 15_000;

export const shutdownStep: Step<QemuContext> = {
  name: "shutdown",
  async run(ctx, signal) {
    const c = ctx.config;
    const vm = ctx.vm!;
    const deadline = Date.now() + c.shutdownTimeoutMs;
    if (!vm.exitStatus()) {
      if (c.shutdownCommand && ctx.comm) {
        ctx.env.log.log("info", "running the shutdown command");
        // The command may never return (the connection drops as the guest goes down).
        const ran = ctx.comm.exec({ command: c.shutdownCommand, onStdout: (b) => ctx.env.log.output("stdout", b.toString()), onStderr: (b) => ctx.env.log.output("stderr", b.toString()) }, signal);
        const result = await Promise.race([ran, vm.exited.then(() => undefined)]).catch(() => undefined);
        if (result && result.exitCode !== null && result.exitCode !== 0 && !vm.exitStatus()) {
          throw new Error(`${c.nodeId}: the shutdown command exited with code ${result.exitCode}`);
        }
      } else {
        ctx.env.log.log("info", "pressing the ACPI power button (system_powerdown)");
        await vm.qmp.execute("system_powerdown").catch(() => undefined);
      }
      while (!vm.exitStatus()) {
        signal.throwIfAborted();
        const left = deadline - Date.now();
        if (left <= 0) break;
        // The pause is cleared once the race is over: a pending 15 s timer kept `imgc apply`
        // alive that long after the guest had powered off and the build had ended.
        let timer: NodeJS.Timeout | undefined;
        let onAbort: (() => void) | undefined;
        const abort = new Promise<void>((resolve) => signal.addEventListener("abort", (onAbort = () => resolve()), { once: true }));
        const pause = new Promise((r) => (timer = setTimeout(r, Math.min(left, PRESS_AGAIN_MS))));
        await Promise.race([vm.exited, abort, pause]);
        clearTimeout(timer);
        if (onAbort) signal.removeEventListener("abort", onAbort);
        if (!vm.exitStatus() && !c.shutdownCommand && Date.now() < deadline) await vm.qmp.execute("system_powerdown").catch(() => undefined);
      }
    }
    const exit = vm.exitStatus();
    if (!exit) {
      await vm.kill();
      throw new Error(`${c.nodeId}: the guest did not power off within ${Math.round(c.shutdownTimeoutMs / 1000)} s; the VM was killed${await serialTail(ctx)}`);
    }
    ctx.poweredOff = true;
    await ctx.comm?.close();
    ctx.env.log.log("info", "the guest powered off");
  },
};
