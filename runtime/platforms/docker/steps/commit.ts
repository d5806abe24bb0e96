/** Commits the provisioned container to an image; removes it again if the build did not end well. */
import type { Step } from "../../../types.js";
import { changeLines, commitChanges } from "../changes.js";
import type { DockerContext } from "../context.js";

/** The `commit` step. */
export const commitStep: Step<DockerContext> = {
  name: "commit",
  async run(ctx, signal) {
    if (!ctx.containerId) throw new Error("commit: no build container (the run container step did not run)");
    const o = ctx.options as { changes?: Parameters<typeof changeLines>[0]; message?: string; author?: string };
    const changes = commitChanges(changeLines(o.changes), ctx.source?.config);
    ctx.imageId = await ctx.backend.commit(ctx.containerId, { changes, message: o.message, author: o.author }, signal);
    ctx.env.log.track({ kind: "image", id: ctx.imageId });
    ctx.env.log.log("info", `committed ${ctx.imageId}`);
  },
  async cleanup(ctx, outcome) {
    if (!ctx.imageId) return;
    // A build that failed or was cancelled after the commit leaves no image behind.
    if (outcome !== "ok") {
      await ctx.backend.removeImage(ctx.imageId, { force: true });
      ctx.imageId = undefined;
    }
    ctx.env.log.untrack({ kind: "image", id: ctx.imageId ?? "" });
  },
};
