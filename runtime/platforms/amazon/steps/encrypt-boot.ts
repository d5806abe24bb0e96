/**
 * `encryptBoot`: copies the new AMI within its region with encryption (the `kmsKeyId`, or the
 * account's default EBS key), then deregisters the unencrypted intermediate and deletes its
 * snapshots, as Packer does. The intermediate is removed on every outcome.
 */
import type { Step } from "../../../types.js";
import { info, type AmazonContext } from "../context.js";
import { dropHalfMadeAmi } from "./create-image.js";
import { deregisterWithSnapshots, waitAvailable } from "./images.js";

/** The unencrypted AMI the copy replaces, per build. */
const intermediate = new WeakMap<AmazonContext, string>();

async function dropIntermediate(ctx: AmazonContext, signal: AbortSignal): Promise<void> {
  const plain = intermediate.get(ctx);
  if (!plain) return;
  await deregisterWithSnapshots(ctx.ec2, plain, signal);
  ctx.env.log.untrack({ kind: "AMI", id: plain, where: ctx.settings.region });
  intermediate.delete(ctx);
}

/** Replaces the AMI by an encrypted copy. */
export const encryptBootStep: Step<AmazonContext> = {
  name: "encrypt-boot",
  async run(ctx, signal) {
    const o = ctx.settings.options;
    const plain = ctx.ami!;
    const region = ctx.settings.region;
    intermediate.set(ctx, plain);
    // From here the intermediate belongs to this step: the create-image cleanup must not see it.
    ctx.ami = undefined;
    delete ctx.amis[region];
    const copy = await ctx.ec2.copyImage(
      { sourceRegion: region, sourceImageId: plain, name: o.amiName, ...(o.amiDescription ? { description: o.amiDescription } : {}), encrypted: true, ...(o.kmsKeyId ? { kmsKeyId: o.kmsKeyId } : {}) },
      signal,
    );
    ctx.ami = copy;
    ctx.env.log.track({ kind: "AMI", id: copy, where: region });
    ctx.snapshots[region] = await waitAvailable(ctx, ctx.ec2, copy, signal);
    ctx.amis[region] = copy;
    await dropIntermediate(ctx, signal);
    info(ctx, `encrypted AMI ${copy} replaces ${plain}${o.kmsKeyId ? ` (KMS key ${o.kmsKeyId})` : ""}`);
  },
  async cleanup(ctx, outcome) {
    await dropIntermediate(ctx, AbortSignal.timeout(ctx.settings.waitMs));
    await dropHalfMadeAmi(ctx, outcome);
  },
};
