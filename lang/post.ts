/**
 * The built-in post-processors (`imgc/post`): manifest, checksum and compress. Platforms add
 * their own (e.g. the docker ones) beside their factory and re-export them here.
 */
import { localPath, type LocalPath, type PathLike } from "./path.js";
import { makePost, type CommonPostOptions, type PostProcessorSpec } from "./post-processor.js";
import { captureSite } from "./site.js";
import type { Input, Json } from "./values.js";

/** Options of `manifest`. */
export interface ManifestOptions extends CommonPostOptions {
  /** Where to write the manifest, relative to the file that wrote it. @default "manifest.json" */
  readonly output?: PathLike;
  /** Write only the file names of artifact files, not their paths. @default false */
  readonly stripPath?: boolean;
  /** Free-form data copied into each build's `custom_data`. */
  readonly customData?: Readonly<Record<string, Input<string>>>;
}

/** Appends a Packer-compatible `manifest.json` entry (builds[], last_run_uuid) for each build. */
export function manifest(options: ManifestOptions = {}): PostProcessorSpec<"manifest", Omit<ManifestOptions, "output" | "only" | "except"> & { output: LocalPath }> {
  const site = captureSite();
  return makePost("manifest", { ...options, output: localPath(options.output ?? "manifest.json", site) }, site);
}

/** Checksum algorithms. */
export type ChecksumType = "md5" | "sha1" | "sha256" | "sha512";

/** Options of `checksum`. */
export interface ChecksumOptions extends CommonPostOptions {
  /** Algorithms to compute; one file per algorithm. @default ["md5"] (as Packer) */
  readonly types?: readonly ChecksumType[];
  /**
   * Output path template; `{{.BuildName}}`, `{{.ChecksumType}}` are filled in. Relative to the
   * file that wrote it. @default "{{.BuildName}}_{{.ChecksumType}}.checksum"
   */
  readonly output?: string;
}

/** Writes checksum files (md5, sha1, sha256, sha512) of the artifact's files. */
export function checksum(options: ChecksumOptions = {}): PostProcessorSpec<"checksum"> {
  const site = captureSite();
  return makePost("checksum", { ...options, output: localPath(options.output ?? "{{.BuildName}}_{{.ChecksumType}}.checksum", site) }, site);
}

/** Archive formats of `compress`. */
export type CompressFormat = "tar.gz" | "zip" | "gz";

/** Options of `compress`. */
export interface CompressOptions extends CommonPostOptions {
  /**
   * The archive to write, relative to the file that wrote it; `{{.BuildName}}` is filled in.
   * The format follows the extension unless `format` is given.
   */
  readonly output: string;
  /** Archive format. @default from the output's extension */
  readonly format?: CompressFormat;
  /** Compression level, 1 (fastest) to 9 (smallest). @default 6 */
  readonly level?: number;
}

/** Compresses the artifact's files into one archive, which becomes the new artifact. */
export function compress(options: CompressOptions): PostProcessorSpec<"compress"> {
  const site = captureSite();
  return makePost("compress", { ...options, output: localPath(options.output, site) }, site);
}

export type { PostProcessorSpec, PostInput, CommonPostOptions } from "./post-processor.js";
export {
  exportImage, exportVirtualBox, exportVmware, exportHyperv, exportParallels, exportAzure, exportGce, exportVagrant, EXPORT_FORMATS,
  type ExportImageOptions, type ExportFormat, type ExportFormatOptions, type CommonExportOptions, type VmHardware, type GuestOs,
  type VirtualBoxExportOptions, type VmwareExportOptions, type HypervExportOptions, type ParallelsExportOptions,
  type AzureExportOptions, type GceExportOptions, type VagrantExportOptions, type VagrantProvider,
} from "../runtime/export/factory.js";
export type { Json };

// The docker platform's post-processors, defined beside its factory.
export {
  dockerTag,
  dockerPush,
  dockerSave,
  dockerImport,
  type DockerTagOptions,
  type DockerPushOptions,
  type DockerLogin,
  type DockerSaveOptions,
  type DockerImportOptions,
} from "../runtime/platforms/docker/post.js";
