/** Tags every AMI and its snapshots, in every region, then shares the AMIs. */
import type { Step } from "../../../types.js";
import { info, type AmazonContext } from "../context.js";

/** CreateTags on AMIs (`tags`) and snapshots (`snapshotTags`). */
export const tagStep: Step<AmazonContext> = {
  name: "tag",
  async run(ctx, signal) {
    const { tags, snapshotTags } = ctx.settings;
    for (const [region, ami] of Object.entries(ctx.amis)) {
      const ec2 = ctx.backends.ec2(region);
      await ec2.tag([ami], tags, signal);
      await ec2.tag(ctx.snapshots[region] ?? [], snapshotTags, signal);
    }
  },
};

/** Launch permissions for `amiUsers` and `amiGroups`. */
export const shareStep: Step<AmazonContext> = {
  name: "share",
  async run(ctx, signal) {
    const users = [...(ctx.settings.options.amiUsers ?? [])];
    const groups = [...(ctx.settings.options.amiGroups ?? [])];
    if (!users.length && !groups.length) return;
    for (const [region, ami] of Object.entries(ctx.amis)) {
      await ctx.backends.ec2(region).shareImage(ami, { users, groups }, signal);
    }
    info(ctx, `shared the AMIs with ${[...users, ...groups.map((g) => `group ${g}`)].join(", ")}`);
  },
};

/** The AMIs are now the artifact, not temporary resources: stop listing them as such. */
export const finishStep: Step<AmazonContext> = {
  name: "finish",
  async run(ctx) {
    for (const [region, id] of Object.entries(ctx.amis)) ctx.env.log.untrack({ kind: "AMI", id, where: region });
  },
};
