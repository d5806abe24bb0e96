/** The `docker-tag` post-processor: names the built image `repository:tag` for each tag. */
import type { DockerBackend } from "../platforms/docker/backend.js";
import { engineBackend } from "../platforms/docker/backend-engine.js";
import { imageArtifactOf, withData } from "../platforms/docker/post-artifacts.js";
import type { PostProcessorImpl } from "./registry.js";

/** Resolved options of `dockerTag`. */
export interface DockerTagResolved {
  readonly repository: string;
  readonly tags?: readonly string[];
  readonly force?: boolean;
}

/** Makes the post-processor over a backend (tests pass the fake). */
export function createDockerTagPost(backendFor: () => DockerBackend): PostProcessorImpl<DockerTagResolved> {
  return {
    type: "docker-tag",
    async run(input, options, ctx, signal) {
      const image = imageArtifactOf(input, "docker-tag");
      if (!options.repository) throw new Error("docker-tag: repository is empty");
      const tags = options.tags?.length ? options.tags : ["latest"];
      const refs: string[] = [];
      for (const tag of tags) {
        await backendFor().tag(image.id, options.repository, tag, signal);
        refs.push(`${options.repository}:${tag}`);
      }
      ctx.log.log("info", `tagged ${image.id} as ${refs.join(", ")}`);
      // The same image under more names: its input is never deleted.
      return { keepInput: true, artifact: withData(input, { repoTags: [...new Set([...image.repoTags, ...refs])] }) };
    },
  };
}

/** `docker-tag` on the real engine. */
const dockerTagPost = createDockerTagPost(engineBackend);
export default dockerTagPost;
