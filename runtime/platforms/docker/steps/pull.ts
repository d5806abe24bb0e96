/** Makes sure the source image is present (pulling per `pull`) and records its config. */
import type { Step } from "../../../types.js";
import type { DockerContext } from "../context.js";
import { registryOf } from "../reference.js";

/** The `pull` step: `pull: true` always pulls, `"missing"` only when absent, `false` never. */
export const pullStep: Step<DockerContext> = {
  name: "pull",
  async run(ctx, signal) {
    const mode = ctx.fromUpstream ? false : (ctx.options.pull ?? "missing");
    let info = mode === true ? undefined : await ctx.backend.inspectImage(ctx.sourceImage, signal);
    if (!info && mode === false) {
      throw new Error(
        ctx.fromUpstream
          ? `The upstream image ${ctx.sourceImage} no longer exists locally: rebuild it (imgc apply --force on its node)`
          : `Source image ${ctx.sourceImage} is not present locally and pull is false: build or load it first, or set pull: "missing"`,
      );
    }
    if (!info) {
      const a = ctx.options.auth;
      const auth = a ? { server: a.server ?? registryOf(ctx.sourceImage), username: String(a.username), password: String(a.password) } : undefined;
      ctx.env.log.log("info", `pulling ${ctx.sourceImage}`);
      await ctx.backend.pull(ctx.sourceImage, { auth, platform: ctx.options.platform }, signal);
      info = await ctx.backend.inspectImage(ctx.sourceImage, signal);
      if (!info) throw new Error(`Pulled ${ctx.sourceImage} but the engine does not list it`);
    }
    ctx.source = info;
  },
};
