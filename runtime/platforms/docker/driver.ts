/**
 * The docker driver (`imgc/drivers/docker`): pull → run container → provision (docker exec) →
 * commit | export | discard, with the build container removed by its cleanup on success,
 * failure and cancellation. Talks to the engine only through `DockerBackend`.
 */
import { randomBytes } from "node:crypto";
import { access } from "node:fs/promises";
import { PROVISION, type ArtifactRecord, type DriverEnv, type PlatformDriver, type Step } from "../../types.js";
import type { DockerBackend } from "./backend.js";
import { engineBackend } from "./backend-engine.js";
import { dockerArtifact, isImageArtifact } from "./artifact.js";
import type { DockerContext } from "./context.js";
import type { DockerOptions } from "./factory.js";
import { commitStep } from "./steps/commit.js";
import { exportStep } from "./steps/export.js";
import { pullStep } from "./steps/pull.js";
import { runContainerStep } from "./steps/run-container.js";

/** A container name from the node id: docker names allow `[a-zA-Z0-9][a-zA-Z0-9_.-]*`. */
export function buildContainerName(nodeId: string): string {
  return `imgc-${nodeId.replace(/[^a-zA-Z0-9_.-]/g, "-")}-${randomBytes(4).toString("hex")}`;
}

/** The image the build starts from: the upstream artifact's id for `from`, else `options.image`. */
function sourceOf(env: DriverEnv, options: DockerOptions): { image: string; fromUpstream: boolean } {
  const { node, upstream } = env.resolved;
  if (node.source.kind === "image") {
    const up = upstream[node.source.node];
    if (!up) throw new Error(`${node.id}: the artifact of ${node.source.node} is not available`);
    if (!isImageArtifact(up)) throw new Error(`${node.id} builds from ${node.source.node}, which exported a tar rather than committing an image: set commit: true on it`);
    return { image: up.id, fromUpstream: true };
  }
  if (!options.image) throw new Error(`${node.id}: docker needs \`image\` (the source image) or \`from\` (an upstream image)`);
  return { image: String(options.image), fromUpstream: false };
}

/** Makes a docker driver over a given backend (tests pass the fake; the default export the engine). */
export function createDockerDriver(backendFor: () => DockerBackend): PlatformDriver<DockerOptions, DockerContext> {
  return {
    type: "docker",
    version: 1,

    async preflight(_env, signal) {
      const v = await backendFor().version(signal);
      if (v.os !== "linux") throw new Error(`The Docker daemon runs ${v.os} containers; imgc's docker platform builds Linux images`);
    },

    createContext(env) {
      const options = env.resolved.options as unknown as DockerOptions;
      const { image, fromUpstream } = sourceOf(env, options);
      return { env, backend: backendFor(), options, sourceImage: image, fromUpstream, containerName: buildContainerName(env.resolved.node.id) };
    },

    steps(ctx) {
      const out: (Step<DockerContext> | typeof PROVISION)[] = [pullStep, runContainerStep, PROVISION];
      if (ctx.options.commit) out.push(commitStep);
      else if (ctx.options.exportPath !== undefined) out.push(exportStep);
      // discard: nothing after provisioning; the run container step's cleanup removes it.
      return out;
    },

    communicator: (ctx) => ctx.comm,

    artifact: (ctx) => dockerArtifact(ctx),

    async exists(artifact: ArtifactRecord, _env, signal) {
      if (!isImageArtifact(artifact)) return access(artifact.id).then(() => true, () => false);
      const info = await backendFor().inspectImage(artifact.id, signal);
      return info !== undefined && info.id === artifact.id;
    },

    async destroy(artifact: ArtifactRecord, _env, signal) {
      if (!isImageArtifact(artifact)) {
        const { rm } = await import("node:fs/promises");
        await rm(artifact.id, { force: true });
        return;
      }
      // Force: the tags imgc's post-processors added point at it too.
      await backendFor().removeImage(artifact.id, { force: true }, signal);
    },
  };
}

/** The docker driver on the real engine. */
const driver: PlatformDriver<DockerOptions, DockerContext> = createDockerDriver(engineBackend);
export default driver;
