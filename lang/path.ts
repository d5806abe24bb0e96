/**
 * Local paths in definitions. A relative path resolves against the directory of the file that
 * wrote it (not the working directory), and a `URL` (e.g. `new URL("./x.sh", import.meta.url)`)
 * is taken as is, which is how a component library in node_modules points at files it ships.
 */
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { IMGC } from "./brand.js";
import type { SourceSite } from "./site.js";

/** A path on the machine that runs imgc: a string (relative to the calling file) or a file URL. */
export type PathLike = string | URL;

/** A local path with the directory it is relative to. */
export interface LocalPath {
  readonly [IMGC]: "path";
  /** The path as the user wrote it (a file URL becomes an absolute path). */
  readonly path: string;
  /** The directory of the file that wrote it; relative paths resolve against it. */
  readonly base: string;
  /**
   * What imgc does with the path. An `input` (the default: an uploaded file, a script, an ISO)
   * is hashed by content into the cache key; an `output` (a download target, a manifest, an
   * export) is never hashed, since an earlier build may have written it.
   */
  readonly role?: "input" | "output";
}

/** Records a local path written at `site`. */
export function localPath(path: PathLike, site: SourceSite, role?: "input" | "output"): LocalPath {
  const written = path instanceof URL || (typeof path === "object" && path !== null && "href" in path)
    ? fileURLToPath(path as URL)
    : String(path);
  return {
    [IMGC]: "path",
    path: written,
    base: site.file === "<unknown>" ? process.cwd() : dirname(site.file),
    ...(role ? { role } : {}),
  };
}
