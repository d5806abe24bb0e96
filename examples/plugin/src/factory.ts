/**
 * The `dirtree` platform factory: what image definitions import from `imgc-plugin-dirtree`. Like
 * every imgc factory it imports only `imgc` (the DSL), never the runtime: evaluating a
 * definitions file never loads the driver.
 */
import { definePlatform, type Input } from "imgc";

/** Options of `dirtree()`. */
export interface DirtreeOptions {
  /**
   * Where to write the tarball, relative to the project root (where `.imgc/` is).
   * `{{.BuildName}}` is replaced by the node id.
   * @default "out/{{.BuildName}}.tar.gz"
   */
  readonly output?: string;
  /** Files to create in the tree before provisioning: path inside the tree → content. */
  readonly files?: Readonly<Record<string, Input<string>>>;
  /** Mode of the files in `files`. @default 0o644 */
  readonly fileMode?: number;
}

/**
 * A directory tree built on this machine: provisioners run locally with the tree as their
 * working directory (`$IMGC_ROOT` names it; relative upload destinations land in it), and the
 * result is packed into a `.tar.gz`. With `from:`, the tree starts from the upstream tarball.
 */
export const dirtree = definePlatform<"dirtree", DirtreeOptions>({
  type: "dirtree",
  driver: "imgc-plugin-dirtree/driver",
  version: 1,
  artifactFields: ["id", "path", "sha256"],
});
