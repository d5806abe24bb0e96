/**
 * Copies the AMI to every `amiRegions` region at once (encrypted with the region's
 * `regionKmsKeyIds` key when `encryptBoot` is set or a key is given) and waits for all of them.
 * On failure or cancellation every copy made so far is deregistered with its snapshots.
 */
import type { Step } from "../../../types.js";
import { info, type AmazonContext } from "../context.js";
import { deregisterWithSnapshots, waitAvailable } from "./images.js";

/** Copies made by this step, by region (so cleanup knows them before they are available). */
const started = new WeakMap<AmazonContext, Map<string, string>>();

/** CopyImage into each region, then wait. */
export const copyRegionsStep: Step<AmazonContext> = {
  name: "copy-regions",
  async run(ctx, signal) {
    const o = ctx.settings.options;
    const copies = new Map<string, string>();
    started.set(ctx, copies);
    const source = ctx.amis[ctx.settings.region]!;
    const results = await Promise.allSettled(
      ctx.settings.amiRegions.map(async (region) => {
        const ec2 = ctx.backends.ec2(region);
        const kmsKeyId = o.regionKmsKeyIds?.[region];
        const encrypted = o.encryptBoot === true || kmsKeyId !== undefined;
        const id = await ec2.copyImage(
          { sourceRegion: ctx.settings.region, sourceImageId: source, name: o.amiName, ...(o.amiDescription ? { description: o.amiDescription } : {}), encrypted, ...(kmsKeyId ? { kmsKeyId } : {}) },
          signal,
        );
        copies.set(region, id);
        ctx.env.log.track({ kind: "AMI", id, where: region });
        info(ctx, `copying ${source} to ${region} as ${id}${encrypted ? ` (encrypted${kmsKeyId ? ` with ${kmsKeyId}` : ""})` : ""}`);
        ctx.snapshots[region] = await waitAvailable(ctx, ec2, id, signal);
        ctx.amis[region] = id;
      }),
    );
    const failed = results.flatMap((r, i) => (r.status === "rejected" ? [`${ctx.settings.amiRegions[i]}: ${(r.reason as Error).message}`] : []));
    if (failed.length) throw new Error(`copying the AMI failed in ${failed.length} region(s): ${failed.join("; ")}`);
  },
  async cleanup(ctx, outcome) {
    const copies = started.get(ctx);
    if (outcome === "ok" || !copies) return;
    const signal = AbortSignal.timeout(ctx.settings.waitMs);
    for (const [region, id] of copies) {
      await deregisterWithSnapshots(ctx.backends.ec2(region), id, signal);
      ctx.env.log.untrack({ kind: "AMI", id, where: region });
      delete ctx.amis[region];
      info(ctx, `deregistered the copy ${id} in ${region}`);
    }
    copies.clear();
  },
};
