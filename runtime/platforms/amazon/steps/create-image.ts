/**
 * Makes the EBS-backed AMI from the instance and waits until it is available. On failure or
 * cancellation, a half-made AMI is deregistered and its snapshots deleted.
 */
import type { Step } from "../../../types.js";
import { info, type AmazonContext } from "../context.js";
import { deregisterWithSnapshots, waitAvailable } from "./images.js";

/** The cleanup shared by every step that makes an AMI in the build region. */
export async function dropHalfMadeAmi(ctx: AmazonContext, outcome: string): Promise<void> {
  if (outcome === "ok" || !ctx.ami) return;
  const id = ctx.ami;
  await deregisterWithSnapshots(ctx.ec2, id, AbortSignal.timeout(ctx.settings.waitMs));
  ctx.env.log.untrack({ kind: "AMI", id, where: ctx.settings.region });
  info(ctx, `deregistered the unfinished AMI ${id}`);
  ctx.ami = undefined;
  delete ctx.amis[ctx.settings.region];
}

/** CreateImage, then wait available. */
export const createImageStep: Step<AmazonContext> = {
  name: "create-image",
  async run(ctx, signal) {
    const o = ctx.settings.options;
    // With encryptBoot this AMI is an intermediate that the encrypted copy replaces: it gets a
    // temporary name, as AMI names are unique per region.
    const name = o.encryptBoot ? ctx.tempName : o.amiName;
    const id = await ctx.ec2.createImage(
      { instanceId: ctx.instance!.id, name, ...(o.amiDescription ? { description: o.amiDescription } : {}), blockDevices: ctx.settings.amiDevices },
      signal,
    );
    ctx.ami = id;
    ctx.env.log.track({ kind: "AMI", id, where: ctx.settings.region });
    info(ctx, `creating AMI ${id} "${name}" from ${ctx.instance!.id}`);
    ctx.snapshots[ctx.settings.region] = await waitAvailable(ctx, ctx.ec2, id, signal);
    ctx.amis[ctx.settings.region] = id;
    info(ctx, `AMI ${id} is available`);
  },
  cleanup: dropHalfMadeAmi,
};
