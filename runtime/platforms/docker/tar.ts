/**
 * Tar streams for the docker communicator: a whole upload (one file or a directory tree)
 * becomes ONE tar stream sent in one Engine API call, and downloads are read back from one.
 * Files are streamed from disk entry by entry, never buffered whole.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { lstat, mkdir, readdir, readlink, symlink } from "node:fs/promises";
import { dirname, join, posix, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { extract, pack, type Header } from "tar-stream";

/** One file for `packFile`: its bytes (a path on disk, or data in memory) and mode. */
export interface FileSource {
  /** Name inside the tar (relative, `/`-separated). */
  readonly name: string;
  /** A local path, or the content. */
  readonly source: string | Buffer;
  /** Mode bits; the local file's when absent (0o644 for buffers). */
  readonly mode?: number;
}

const ROOT = { uid: 0, gid: 0, uname: "root", gname: "root" } as const;

/** A tar stream holding one file. */
export function packFile(file: FileSource): Readable {
  const p = pack();
  void (async () => {
    if (Buffer.isBuffer(file.source)) {
      p.entry({ ...ROOT, name: file.name, size: file.source.length, mode: file.mode ?? 0o644, mtime: new Date() }, file.source);
    } else {
      const st = await lstat(file.source);
      if (!st.isFile()) throw new Error(`${file.source} is not a regular file`);
      await pipeline(createReadStream(file.source), p.entry({ ...ROOT, name: file.name, size: st.size, mode: file.mode ?? st.mode & 0o7777, mtime: st.mtime }));
    }
    p.finalize();
  })().catch((err: Error) => p.destroy(err));
  return p as unknown as Readable;
}

/**
 * A tar stream of the tree under `dir`, entry names prefixed by `prefix` (`""` for the
 * directory's contents, `"name/"` for the directory itself). Regular files, directories and
 * symlinks; owned by root (the communicator re-owns them when asked).
 */
export function packDirectory(dir: string, prefix: string, mode?: number): Readable {
  const p = pack();
  const walk = async (abs: string, rel: string): Promise<void> => {
    const entries = (await readdir(abs, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const path = join(abs, e.name);
      const name = rel + e.name;
      const st = await lstat(path);
      const bits = st.mode & 0o7777;
      if (st.isDirectory()) {
        p.entry({ ...ROOT, name: `${name}/`, type: "directory", mode: bits, mtime: st.mtime });
        await walk(path, `${name}/`);
      } else if (st.isSymbolicLink()) {
        p.entry({ ...ROOT, name, type: "symlink", linkname: await readlink(path), mode: bits, mtime: st.mtime });
      } else if (st.isFile()) {
        await pipeline(createReadStream(path), p.entry({ ...ROOT, name, size: st.size, mode: mode ?? bits, mtime: st.mtime }));
      }
    }
  };
  void (async () => {
    const st = await lstat(dir);
    if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
    if (prefix) p.entry({ ...ROOT, name: prefix, type: "directory", mode: st.mode & 0o7777, mtime: st.mtime });
    await walk(dir, prefix);
    p.finalize();
  })().catch((err: Error) => p.destroy(err));
  return p as unknown as Readable;
}

/** Reads the first regular file of a tar stream into `destination`; throws when there is none. */
export async function extractFirstFile(tar: Readable, destination: string, what: string): Promise<void> {
  const x = extract();
  let written = false;
  x.on("entry", (header: Header, stream, next) => {
    if (written || header.type !== "file") {
      stream.on("end", next);
      stream.resume();
      return;
    }
    written = true;
    pipeline(stream, createWriteStream(destination, { mode: (header.mode ?? 0o644) & 0o777 })).then(() => next(), next);
  });
  await pipeline(tar, x);
  if (!written) throw new Error(`${what} is not a regular file`);
}

/**
 * Extracts a tar stream under `destination`, dropping the first path component (the tar of
 * `docker cp`-style downloads holds `name/…`). Refuses entries that would land outside.
 */
export async function extractTree(tar: Readable, destination: string): Promise<void> {
  const root = resolve(destination);
  await mkdir(root, { recursive: true });
  const x = extract();
  x.on("entry", (header: Header, stream, next) => {
    void (async () => {
      const parts = posix.normalize(header.name).split("/").filter(Boolean).slice(1);
      const target = resolve(root, ...parts);
      if (target !== root && !target.startsWith(root + sep)) throw new Error(`refusing tar entry outside the destination: ${header.name}`);
      if (header.type === "directory") await mkdir(target, { recursive: true, mode: (header.mode ?? 0o755) & 0o7777 });
      else if (header.type === "symlink") {
        await mkdir(dirname(target), { recursive: true });
        await symlink(header.linkname ?? "", target);
      } else if (header.type === "file") {
        await mkdir(dirname(target), { recursive: true });
        await pipeline(stream, createWriteStream(target, { mode: (header.mode ?? 0o644) & 0o7777 }));
        return;
      }
      stream.resume();
      await new Promise<void>((r) => stream.on("end", () => r()));
    })().then(() => next(), (err: Error) => next(err));
  });
  await pipeline(tar, x);
}
