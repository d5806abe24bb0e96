/** The `docker-save` post-processor: writes the image and its tags to a `docker save` tar. */
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { pipeline } from "node:stream/promises";
import type { DockerBackend } from "../platforms/docker/backend.js";
import { engineBackend } from "../platforms/docker/backend-engine.js";
import { imageArtifactOf } from "../platforms/docker/post-artifacts.js";
import { outputPath } from "./paths.js";
import type { PostProcessorImpl } from "./registry.js";

/** Resolved options of `dockerSave`. */
export interface DockerSaveResolved {
  readonly output: unknown;
}

/** Makes the post-processor over a backend (tests pass the fake). */
export function createDockerSavePost(backendFor: () => DockerBackend): PostProcessorImpl<DockerSaveResolved> {
  return {
    type: "docker-save",
    async run(input, options, ctx, signal) {
      const image = imageArtifactOf(input, "docker-save");
      const path = outputPath(options.output, ctx.projectRoot, { BuildName: ctx.node, BuilderType: ctx.platformType });
      const part = `${path}.${process.pid}.part`;
      await mkdir(dirname(path), { recursive: true });
      // Saved by name when tagged, so `docker load` restores the names too.
      const refs = image.repoTags.length ? [...image.repoTags] : [image.id];
      try {
        await pipeline(await backendFor().saveImages(refs, signal), createWriteStream(part), { signal });
        await rename(part, path);
      } finally {
        await rm(part, { force: true });
      }
      ctx.log.log("info", `saved ${refs.join(", ")} to ${path}`);
      return { artifact: { node: input.node, platform: input.platform, id: path, files: [path], data: { postProcessor: "docker-save", image: image.id, repoTags: refs } } };
    },
    async destroy(artifact) {
      await rm(artifact.id, { force: true });
    },
  };
}

/** `docker-save` on the real engine. */
const dockerSavePost = createDockerSavePost(engineBackend);
export default dockerSavePost;
