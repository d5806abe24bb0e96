/**
 * `encryptBoot`: copies the new AMI within its region with encryption (the `kmsKeyId`, or the
 * account's default EBS key), then deregisters the unencrypted one and deletes its snapshots,
 * as Packer does.
 */
import type { Step } from "../../../types.js";
import { info, type AmazonContext } from "../context.js";
import { dropHalfMadeAmi } from "./create-image.js";
import { deregisterWithSnapshots, waitAvailable } from "./images.js";

/** Replaces the AMI by an encrypted copy. */
export const encryptBootStep: Step<AmazonContext> = {
  name: "encrypt-boot",
  async run(ctx, signal) {
    const o = ctx.settings.options;
    const plain = ctx.ami!;
    const region = ctx.settings.region;
    const copy = await ctx.ec2.copyImage(
      { sourceRegion: region, sourceImageId: plain, name: o.amiName, ...(o.amiDescription ? { description: o.amiDescription } : {}), encrypted: true, ...(o.kmsKeyId ? { kmsKeyId: o.kmsKeyId } : {}) },
      signal,
    );
    ctx.env.log.track({ kind: "AMI", id: copy, where: region });
    // From here the copy is the build's AMI: a failure deregisters it, and the plain one too.
    ctx.ami = copy;
    try {
      ctx.snapshots[region] = await waitAvailable(ctx, ctx.ec2, copy, signal);
    } finally {
      await deregisterWithSnapshots(ctx.ec2, plain, signal.aborted ? AbortSignal.timeout(ctx.settings.waitMs) : signal);
      ctx.env.log.untrack({ kind: "AMI", id: plain, where: region });
    }
    ctx.amis[region] = copy;
    info(ctx, `encrypted AMI ${copy} replaces ${plain}${o.kmsKeyId ? ` (KMS key ${o.kmsKeyId})` : ""}`);
  },
  cleanup: dropHalfMadeAmi,
};
