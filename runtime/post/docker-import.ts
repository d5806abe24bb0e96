/** The `docker-import` post-processor: a filesystem tar (docker export) → an image. */
import { createReadStream } from "node:fs";
import type { DockerBackend } from "../platforms/docker/backend.js";
import { engineBackend } from "../platforms/docker/backend-engine.js";
import type { PostProcessorImpl } from "./registry.js";

/** Resolved options of `dockerImport`. */
export interface DockerImportResolved {
  readonly repository: string;
  readonly tag?: string;
  readonly changes?: readonly string[];
  readonly message?: string;
}

/** Makes the post-processor over a backend (tests pass the fake). */
export function createDockerImportPost(backendFor: () => DockerBackend): PostProcessorImpl<DockerImportResolved> {
  return {
    type: "docker-import",
    async run(input, options, ctx, signal) {
      const tar = input.files.find((f) => /\.tar$/i.test(f)) ?? input.files[0];
      if (!tar) throw new Error(`docker-import needs a filesystem tar (docker({ exportPath })), but ${input.node} produced ${input.id} with no file`);
      const ref = `${options.repository}:${options.tag ?? "latest"}`;
      const id = await backendFor().importImage(createReadStream(tar), { reference: ref, changes: options.changes, message: options.message }, signal);
      ctx.log.log("info", `imported ${tar} as ${ref} (${id})`);
      return {
        artifact: { node: input.node, platform: "docker", id, files: [], data: { mode: "commit", imageId: id, repoTags: [ref], sourceImage: tar } },
      };
    },
    async destroy(artifact, signal) {
      await backendFor().removeImage(artifact.id, { force: true }, signal);
    },
  };
}

/** `docker-import` on the real engine. */
const dockerImportPost = createDockerImportPost(engineBackend);
export default dockerImportPost;
