/**
 * Step "accelerator": picks KVM, TCG… with the probe (see probe.ts) and says which and why; a
 * fallback to TCG is a warning, since the build then runs several times slower.
 */
import type { Step } from "../../../types.js";
import type { QemuContext } from "../context.js";
import { chooseAccelerator } from "../probe.js";

export const acceleratorStep: Step<QemuContext> = {
  name: "accelerator",
  async run(ctx, signal) {
    const c = ctx.config;
    const choice = await chooseAccelerator(c.accelerator, ctx.backend.probe, c.acceleratorProbeTimeoutMs, signal);
    ctx.accelerator = choice;
    if (choice.warning) ctx.env.log.log("warn", choice.warning);
    ctx.env.log.log("info", `accelerator: ${choice.accel} (${choice.reason})`);
  },
};
