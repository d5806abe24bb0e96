/**
 * Which disk of an artifact to export. A QEMU build's artifact lists its disk in `files`
 * (and may name it in `data.disk`); an earlier export's artifact carries the disk it was made
 * from in `data.source`, so exports can also be chained.
 */
import { access } from "node:fs/promises";
import type { ArtifactRecord } from "../../types.js";
import { exportError } from "./errors.js";
import { diskInfo } from "./qemu-img.js";

/** The disk an export reads. */
export interface SourceDisk {
  readonly path: string;
  /** `raw` or `qcow2` (what QEMU builds make); other formats qemu-img reads are accepted too. */
  readonly format: string;
  readonly virtualSize: number;
}

const DISK_EXT = /\.(qcow2|raw|img)$/i;

function candidate(artifact: ArtifactRecord): { path: string; format?: string } {
  const data = (artifact.data ?? {}) as Record<string, unknown>;
  const source = data.source as { path?: unknown; format?: unknown } | undefined;
  if (data.kind === "export" && source && typeof source.path === "string") {
    return { path: source.path, ...(typeof source.format === "string" ? { format: source.format } : {}) };
  }
  // `disk` or `path` (the QEMU platform's artifact data), when the artifact names its disk.
  const hinted = typeof data.disk === "string" ? data.disk : typeof data.path === "string" && artifact.files.includes(data.path) ? data.path : undefined;
  const format = typeof data.diskFormat === "string" ? data.diskFormat : typeof data.format === "string" ? data.format : undefined;
  if (hinted) return { path: hinted, ...(format ? { format } : {}) };
  const disks = artifact.files.filter((f) => DISK_EXT.test(f));
  const pick = disks[0] ?? (artifact.files.length === 1 ? artifact.files[0] : undefined);
  if (!pick) {
    throw exportError(
      `artifact of ${artifact.node} has no disk to export (files: ${artifact.files.length ? artifact.files.join(", ") : "none"})`,
      "exports take the disk of a QEMU build (a .qcow2, .raw or .img file)",
    );
  }
  return { path: pick, ...(format ? { format } : {}) };
}

/** Finds the artifact's disk and reads its format and virtual size with qemu-img. */
export async function sourceDisk(artifact: ArtifactRecord, signal: AbortSignal): Promise<SourceDisk> {
  const { path, format } = candidate(artifact);
  try {
    await access(path);
  } catch {
    throw exportError(`the disk ${path} of ${artifact.node} does not exist`, "rebuild the image (imgc apply --force) or check the artifact's files");
  }
  // Probe rather than trust the extension; when the artifact names the format, qemu-img must agree.
  const info = await diskInfo(path, signal, format);
  return { path, format: info.format, virtualSize: info.virtualSize };
}
