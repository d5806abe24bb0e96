/** Creates and starts the build container; its cleanup removes it whatever the outcome. */
import type { Step } from "../../../types.js";
import { BUILD_LABEL, type ContainerSpec } from "../backend.js";
import { DockerCommunicator } from "../communicator.js";
import type { DockerContext } from "../context.js";
import type { DockerOptions } from "../factory.js";
import { parseRunArgs } from "../run-args.js";

/** The create request for the build container, from the options (pure). */
export function containerSpec(ctx: Pick<DockerContext, "sourceImage" | "containerName" | "env" | "source">, options: DockerOptions): ContainerSpec {
  const keepAlive = options.keepAliveCommand ?? ["/bin/sh"];
  // The keep-alive command runs as CMD; only an image with an ENTRYPOINT needs that replaced
  // too (Packer's `--entrypoint=/bin/sh`). Commit restores both from the source image: the
  // engine cannot commit an entrypoint back to "none", so one is set only when needed.
  const hasEntrypoint = (ctx.source?.config.entrypoint?.length ?? 0) > 0;
  const extra = parseRunArgs(options.runArgs ?? []);
  return {
    image: ctx.sourceImage,
    // Found by `docker ps -a --filter label=imgc.build=<node>`; commit blanks it in the image.
    labels: { [BUILD_LABEL]: ctx.env.resolved.node.id },
    ...(hasEntrypoint ? { entrypoint: keepAlive, cmd: [] } : { cmd: keepAlive }),
    tty: true,
    binds: Object.entries(options.volumes ?? {}).map(([host, container]) => `${host}:${container}`),
    privileged: options.privileged,
    capAdd: options.capAdd,
    capDrop: options.capDrop,
    network: options.network ?? extra.network,
    platform: options.platform,
    extra: extra.extra,
    env: extra.env,
  };
}

/** The `run container` step. */
export const runContainerStep: Step<DockerContext> = {
  name: "run container",
  async run(ctx, signal) {
    const spec = { ...containerSpec(ctx, ctx.options), name: ctx.containerName };
    // Tracked before the create: an abort mid-request may still leave a container by this name.
    ctx.env.log.track({ kind: "container", id: ctx.containerName });
    ctx.containerId = await ctx.backend.createContainer(spec, signal);
    await ctx.backend.startContainer(ctx.containerId, signal);
    ctx.comm = new DockerCommunicator(ctx.backend, ctx.containerId, {
      user: ctx.options.user,
      workdir: ctx.options.workdir,
      fixUploadOwner: ctx.options.fixUploadOwner,
      // Given to each exec rather than to the container, so the build's env is not committed.
      env: ctx.options.env as Record<string, string> | undefined,
    });
    ctx.env.facts.instanceId = ctx.containerId;
  },
  async cleanup(ctx) {
    // By name: it also finds a container whose create was cancelled before its id came back.
    await ctx.backend.removeContainer(ctx.containerId ?? ctx.containerName);
    ctx.env.log.untrack({ kind: "container", id: ctx.containerName });
    ctx.containerId = undefined;
    ctx.comm = undefined;
  },
};
