/**
 * Stops the instance before imaging it, so the file systems are consistent (Packer's
 * StepStopEBSBackedInstance). A one-time spot instance cannot be stopped: CreateImage then
 * reboots it instead.
 */
import type { Step } from "../../../types.js";
import { info, type AmazonContext } from "../context.js";
import { waitFor } from "../wait.js";

/** Closes SSH, stops the instance and waits until it is stopped. */
export const stopInstanceStep: Step<AmazonContext> = {
  name: "stop-instance",
  async run(ctx, signal) {
    await ctx.comm?.close();
    const inst = ctx.instance!;
    if (ctx.spot) {
      info(ctx, `instance ${inst.id} is a spot instance, which cannot be stopped: the image is made from it running (EC2 reboots it)`);
      return;
    }
    await ctx.ec2.stopInstance(inst.id, signal);
    await waitFor(
      `instance ${inst.id} stopping`,
      async () => {
        const i = await ctx.ec2.describeInstance(inst.id, signal);
        const state = i?.state ?? "gone";
        return { done: state === "stopped", state, ...(state === "terminated" || state === "gone" ? { failure: `it is ${state}` } : {}) };
      },
      { pollMs: ctx.settings.pollMs, timeoutMs: ctx.settings.waitMs, signal },
    );
    info(ctx, `instance ${inst.id} stopped`);
  },
};
