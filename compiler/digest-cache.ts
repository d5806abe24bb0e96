/**
 * Remembered content digests of large files, so a plan does not read a multi-GiB disk image
 * (a qemu `sourceImage`, an upload payload) again when it has not changed since the last
 * compile. Kept in `.imgc/digests.json` beside the state, keyed by absolute path; an entry is
 * used only while the file's size, inode, device, modification and change times (nanoseconds)
 * are all the same as when it was digested. The change time cannot be set back by tools
 * (`touch -d` moves mtime, and that updates ctime), so an edited file is always digested again.
 *
 * Best effort: an unreadable or corrupt cache file is ignored, and one that cannot be written
 * (a read-only project) only costs the next compile the same reading.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, type BigIntStats } from "node:fs";
import { join } from "node:path";

/** Files smaller than this are digested every time: reading them costs less than remembering. */
export const REMEMBER_FROM_BYTES = 1 << 20;

const FORMAT = 1;

interface Entry {
  /** size, ino, dev, mtimeNs, ctimeNs, joined: the identity of the file's bytes. */
  readonly stamp: string;
  readonly sha256: string;
}

function stampOf(st: BigIntStats): string {
  return [st.size, st.ino, st.dev, st.mtimeNs, st.ctimeNs].join(":");
}

/** The digests remembered for one project. */
export class DigestCache {
  private readonly entries = new Map<string, Entry>();
  private dirty = false;
  private readonly file: string;

  /** Loads `.imgc/digests.json` under `root` (an absent or unreadable file is an empty cache). */
  constructor(private readonly root: string) {
    this.file = join(root, ".imgc", "digests.json");
    try {
      const data = JSON.parse(readFileSync(this.file, "utf8")) as { format?: number; files?: Record<string, Entry> };
      if (data.format === FORMAT && data.files) {
        for (const [path, e] of Object.entries(data.files)) {
          if (typeof e?.stamp === "string" && typeof e.sha256 === "string") this.entries.set(path, e);
        }
      }
    } catch {
      /* no cache yet, or not ours to trust: start empty */
    }
  }

  /** The remembered sha256 (hex) of `abs`, when the file is unchanged since it was recorded. */
  get(abs: string, st: BigIntStats): string | undefined {
    const e = this.entries.get(abs);
    return e && e.stamp === stampOf(st) ? e.sha256 : undefined;
  }

  /** Remembers the sha256 (hex) of `abs` as it is now. */
  set(abs: string, st: BigIntStats, sha256: string): void {
    this.entries.set(abs, { stamp: stampOf(st), sha256 });
    this.dirty = true;
  }

  /**
   * Writes the cache when something new was learned (atomically: temp file, then rename),
   * forgetting files that no longer exist.
   */
  save(): void {
    if (!this.dirty) return;
    for (const path of [...this.entries.keys()]) if (!existsSync(path)) this.entries.delete(path);
    try {
      mkdirSync(join(this.root, ".imgc"), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify({ format: FORMAT, files: Object.fromEntries(this.entries) }) + "\n");
      renameSync(tmp, this.file);
      this.dirty = false;
    } catch {
      /* a read-only project: the next compile reads the files again */
    }
  }
}
