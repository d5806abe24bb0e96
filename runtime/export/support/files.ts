/**
 * Files the exports write: SHA-256 of every file, and a staging directory so a failed or
 * cancelled export leaves nothing behind and a finished one replaces the old files at once.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { ExportedFile } from "../types.js";

/** Lowercase hex SHA-256 of a file, streamed. */
export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash("sha256");
  // 1 MiB reads: hashing a multi-GiB disk with the default 64 KiB chunks costs ~4x more.
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), hash, signal ? { signal } : {});
  return hash.digest("hex");
}

/** A written file with its size and SHA-256. */
export async function describeFile(path: string, signal?: AbortSignal): Promise<ExportedFile> {
  const [s, sha256] = await Promise.all([stat(path), sha256File(path, signal)]);
  return { path, size: s.size, sha256 };
}

/**
 * A private directory next to the final output: the export writes its entries there, then
 * `publish` moves each into `directory` (replacing what was there), or `discard` removes it all.
 */
export class Staging {
  private constructor(readonly directory: string, readonly path: string) {}

  /** Makes the staging directory inside `directory` (created when missing). */
  static async create(directory: string): Promise<Staging> {
    await mkdir(directory, { recursive: true });
    const path = join(directory, `.imgc-export-${randomBytes(6).toString("hex")}`);
    await mkdir(path);
    return new Staging(directory, path);
  }

  /** A path inside the staging directory. */
  file(...parts: string[]): string {
    return join(this.path, ...parts);
  }

  /** Moves the named top-level entries into the output directory; returns their final paths. */
  async publish(entries: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    for (const entry of entries) {
      const final = join(this.directory, basename(entry));
      await rm(final, { recursive: true, force: true });
      await rename(join(this.path, entry), final);
      out.push(final);
    }
    await this.discard();
    return out;
  }

  /** Removes the staging directory and whatever is left in it. Idempotent. */
  async discard(): Promise<void> {
    await rm(this.path, { recursive: true, force: true });
  }
}
