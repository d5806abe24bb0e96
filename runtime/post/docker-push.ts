/** The `docker-push` post-processor: logs in (credentials from secrets) and pushes every tag. */
import type { DockerBackend, RegistryCredentials } from "../platforms/docker/backend.js";
import { engineBackend } from "../platforms/docker/backend-engine.js";
import { imageArtifactOf, withData } from "../platforms/docker/post-artifacts.js";
import { registryOf } from "../platforms/docker/reference.js";
import type { PostProcessorImpl } from "./registry.js";

/** Resolved options of `dockerPush`. */
export interface DockerPushResolved {
  readonly login?: { readonly server?: string; readonly username: string; readonly password: string };
}

/** Makes the post-processor over a backend (tests pass the fake). */
export function createDockerPushPost(backendFor: () => DockerBackend): PostProcessorImpl<DockerPushResolved> {
  return {
    type: "docker-push",
    async run(input, options, ctx, signal) {
      const image = imageArtifactOf(input, "docker-push");
      if (image.repoTags.length === 0) throw new Error(`docker-push: ${input.node}'s image has no repository tag to push; put dockerTag({ repository }) before dockerPush()`);
      let auth: RegistryCredentials | undefined;
      if (options.login) {
        ctx.redact(options.login.password);
        auth = { server: options.login.server ?? registryOf(image.repoTags[0]!), username: options.login.username, password: options.login.password };
        await backendFor().login(auth, signal);
      }
      const digests: string[] = [];
      for (const ref of image.repoTags) {
        const digest = await backendFor().push(ref, { ...(auth && registryOf(ref) === auth.server ? { auth } : {}) }, signal);
        ctx.log.log("info", `pushed ${ref}${digest ? ` (${digest})` : ""}`);
        if (digest) digests.push(`${ref.replace(/:[^:/]+$/, "")}@${digest}`);
      }
      return { keepInput: true, artifact: withData(input, { repoDigests: digests }) };
    },
  };
}

/** `docker-push` on the real engine. */
const dockerPushPost = createDockerPushPost(engineBackend);
export default dockerPushPost;
