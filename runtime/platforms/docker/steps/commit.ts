/** Commits the provisioned container to an image; removes it again if the build did not end well. */
import type { Step } from "../../../types.js";
import { BUILD_LABEL, COMMIT_LABEL } from "../backend.js";
import { changeLines, commitChanges } from "../changes.js";
import type { DockerContext } from "../context.js";

/** The `commit` step. */
export const commitStep: Step<DockerContext> = {
  name: "commit",
  async run(ctx, signal) {
    if (!ctx.containerId) throw new Error("commit: no build container (the run container step did not run)");
    // End the provisioning shell session first: nothing of ours runs while the filesystem is taken.
    await ctx.comm?.close();
    const o = ctx.options as { changes?: Parameters<typeof changeLines>[0]; message?: string; author?: string };
    const changes = [
      ...commitChanges(changeLines(o.changes), ctx.source?.config),
      `LABEL ${COMMIT_LABEL}=${ctx.containerName}`,
      // The engine copies the container's labels into the image and cannot drop one: blank the
      // build label, so containers later run from this image are not taken for build containers.
      `LABEL ${BUILD_LABEL}=""`,
    ];
    ctx.imageId = await ctx.backend.commit(ctx.containerId, { changes, message: o.message, author: o.author }, signal);
    ctx.env.log.track({ kind: "image", id: ctx.imageId });
    ctx.env.log.log("info", `committed ${ctx.imageId}`);
  },
  async cleanup(ctx, outcome) {
    if (outcome === "ok") {
      if (ctx.imageId) ctx.env.log.untrack({ kind: "image", id: ctx.imageId });
      return;
    }
    // A build that failed or was cancelled leaves no image, including one whose commit the
    // daemon finished after we stopped waiting for it (found by its commit label).
    const ids = ctx.imageId ? [ctx.imageId] : await ctx.backend.listImages(`${COMMIT_LABEL}=${ctx.containerName}`);
    for (const id of ids) {
      await ctx.backend.removeImage(id, { force: true });
      ctx.env.log.untrack({ kind: "image", id });
    }
    ctx.imageId = undefined;
  },
};
