/**
 * The runtime side of the export post-processors: what each format module implements and what
 * it gets to run. The shape is `run(artifact, options, ctx) → ArtifactRecord`, the
 * post-processor contract; `ExportContext` is the subset of the runtime's post-processor context
 * the exports use, so they plug into the registry without depending on the rest of it.
 */
import type { Json } from "../../lang/values.js";
import type { ArtifactRecord, BuildLog } from "../types.js";
import type { ExportFormat, ResolvedExportOptions } from "./factory.js";

/** What an export needs from the runtime for one artifact. */
export interface ExportContext {
  /** The node whose artifact is exported: its id (`web.qemu`) and image name (the default file name). */
  readonly node: { readonly id: string; readonly image: string };
  /** Logging for this node. */
  readonly log: Pick<BuildLog, "log">;
  /** A private scratch directory (intermediate conversions go there). */
  readonly workDir: string;
  /** Cancels conversions and archive writing. */
  readonly signal: AbortSignal;
}

/** A file an export wrote, with its digest. */
export type ExportedFile = {
  /** Absolute path. */
  readonly path: string;
  /** Size in bytes. */
  readonly size: number;
  /** Lowercase hex SHA-256 of the content. */
  readonly sha256: string;
};

/** `data` of an export's artifact. */
export type ExportArtifactData = {
  /** Always `"export"`: the artifact came from an export post-processor. */
  readonly kind: "export";
  /** The format written. */
  readonly format: ExportFormat;
  /** The top-level files and bundle directories written (what `destroy` removes). */
  readonly outputs: readonly string[];
  /** Every file written, with size and SHA-256. */
  readonly files: readonly ExportedFile[];
  /** The disk's virtual size in bytes, after the format's rounding rules. */
  readonly virtualSize: number;
  /** The disk the export was made from (later exports in a chain read it too). */
  readonly source: { readonly path: string; readonly format: string; readonly virtualSize: number };
  /** Format-specific facts (OVF file name, VMX path, VHD footer fields…). */
  readonly details: { readonly [key: string]: Json };
};

/** One export format's implementation. */
export interface ExportImpl<F extends ExportFormat = ExportFormat> {
  /** The post-processor type, `export-<format>`. */
  readonly type: `export-${F}`;
  /** Writes the format from the artifact's disk and returns the new artifact. */
  run(artifact: ArtifactRecord, options: ResolvedExportOptions<F>, ctx: ExportContext): Promise<ArtifactRecord<ExportArtifactData>>;
}
