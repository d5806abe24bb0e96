/**
 * The docker post-processors' factories (re-exported by `imgc/post`): tag, push, save and
 * import. Plain data; the implementations are in runtime/post/docker-*.ts. Imports only `lang/`.
 */
import { localPath, type LocalPath, type PathLike } from "../../../lang/path.js";
import { makePost, type CommonPostOptions, type PostProcessorSpec } from "../../../lang/post-processor.js";
import { captureSite } from "../../../lang/site.js";
import type { Input } from "../../../lang/values.js";

/** Options of `dockerTag`. */
export interface DockerTagOptions extends CommonPostOptions {
  /** Repository to tag the image into, e.g. `registry.example:5000/team/web`. */
  readonly repository: Input<string>;
  /** Tags to give it. @default ["latest"] */
  readonly tags?: readonly Input<string>[];
  /** Move a tag that already points at another image (the engine always does; kept for Packer parity). @default true */
  readonly force?: boolean;
}

/** Tags the built image as `repository:tag` for each tag; the next post-processor (push, save) sees these names. */
export function dockerTag(options: DockerTagOptions): PostProcessorSpec<"docker-tag", Omit<DockerTagOptions, "only" | "except">> {
  return makePost("docker-tag", options, captureSite());
}

/** Registry credentials of `dockerPush`. */
export interface DockerLogin {
  /** Registry host[:port]. @default the registry of the first tag */
  readonly server?: Input<string>;
  /** User name. */
  readonly username: Input<string>;
  /** Password or token: pass a `secret()`; it is never printed or stored. */
  readonly password: Input<string>;
}

/** Options of `dockerPush`. */
export interface DockerPushOptions extends CommonPostOptions {
  /** Log in first (checked with the registry before any upload). @default anonymous */
  readonly login?: DockerLogin;
}

/** Pushes every `repository:tag` a previous `dockerTag` gave the image. */
export function dockerPush(options: DockerPushOptions = {}): PostProcessorSpec<"docker-push", Omit<DockerPushOptions, "only" | "except">> {
  return makePost("docker-push", options, captureSite());
}

/** Options of `dockerSave`. */
export interface DockerSaveOptions extends CommonPostOptions {
  /** The tar to write (`docker save` format), relative to the calling file; `{{.BuildName}}` is filled in. */
  readonly output: PathLike;
}

/** Writes the image (with its tags) to a `docker save` tar, loadable with `docker load`. */
export function dockerSave(options: DockerSaveOptions): PostProcessorSpec<"docker-save", Omit<DockerSaveOptions, "only" | "except" | "output"> & { output: LocalPath }> {
  const site = captureSite();
  return makePost("docker-save", { ...options, output: localPath(options.output, site, "output") }, site);
}

/** Options of `dockerImport`. */
export interface DockerImportOptions extends CommonPostOptions {
  /** Repository of the imported image. */
  readonly repository: Input<string>;
  /** Its tag. @default "latest" */
  readonly tag?: Input<string>;
  /** Dockerfile instructions applied to the imported image (`docker import --change`), e.g. `['CMD ["/bin/sh"]']`. */
  readonly changes?: readonly string[];
  /** Import message. */
  readonly message?: string;
}

/** Imports a filesystem tar (from `docker({ exportPath })`) as an image. */
export function dockerImport(options: DockerImportOptions): PostProcessorSpec<"docker-import", Omit<DockerImportOptions, "only" | "except">> {
  return makePost("docker-import", options, captureSite());
}
