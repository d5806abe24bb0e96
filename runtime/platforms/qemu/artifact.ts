/**
 * The QEMU artifact: the disk file(s) with their format, size and sha256, as a plain record
 * kept in the state. `exists` checks the files are there with the recorded size; `destroy`
 * deletes them.
 */
import { readdir, rm, rmdir, stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { ArtifactRecord } from "../../types.js";
import type { QemuDiskOutput } from "./context.js";

/** What a QEMU artifact records. */
export interface QemuArtifactData {
  /** The disk file. */
  readonly path: string;
  /** `qcow2` or `raw`. */
  readonly format: "qcow2" | "raw";
  /** Bytes on disk. */
  readonly size: number;
  /** Bytes the guest sees. */
  readonly virtualSize: number;
  /** sha256 of the file, hex. */
  readonly sha256: string;
  /** The file this overlay needs (with `keepBackingFile`). */
  readonly backingFile?: string;
  /** The accelerator the build ran under. */
  readonly accelerator?: string;
  [key: string]: string | number | undefined;
}

/** The artifact record of a finished build. */
export function qemuArtifact(node: string, out: QemuDiskOutput, accelerator: string | undefined): ArtifactRecord {
  const data: Record<string, string | number> = { path: out.path, format: out.format, size: out.size, virtualSize: out.virtualSize, sha256: out.sha256 };
  if (out.backingFile) data.backingFile = out.backingFile;
  if (accelerator) data.accelerator = accelerator;
  return { node, platform: "qemu", id: out.path, files: [out.path], data };
}

/** True when every file of the artifact exists with the recorded size. */
export async function artifactExists(artifact: ArtifactRecord): Promise<boolean> {
  const data = artifact.data as Partial<QemuArtifactData>;
  for (const file of artifact.files) {
    const st = await stat(file).catch(() => undefined);
    if (!st?.isFile()) return false;
    if (file === data.path && typeof data.size === "number" && st.size !== data.size) return false;
  }
  return true;
}

/** Deletes the artifact's files (and their directory when it is left empty). */
export async function destroyArtifact(artifact: ArtifactRecord): Promise<void> {
  const dirs = new Set<string>();
  for (const file of artifact.files) {
    await rm(file, { force: true });
    dirs.add(dirname(file));
  }
  for (const dir of dirs) {
    const left = await readdir(dir).catch(() => undefined);
    if (left && left.length === 0) await rmdir(dir).catch(() => undefined);
  }
}
