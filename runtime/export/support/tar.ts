/**
 * Tar archives with tar-stream (POSIX ustar headers): OVAs and Vagrant boxes, members streamed
 * from disk in the order given, optionally gzip'd. Sizes over ustar's 8 GiB limit are refused
 * with a clear error rather than written as an archive other tools misread.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";
import * as tar from "tar-stream";
import { exportError } from "./errors.js";

/** A member: its name in the archive and the local file it comes from. */
export interface TarMember {
  readonly name: string;
  readonly file: string;
}

const USTAR_MAX = 8 * 1024 ** 3 - 1;

/** Writes `members` in order into `out` (gzip'd at `gzipLevel` when given). */
export async function writeTar(out: string, members: readonly TarMember[], options: { gzipLevel?: number; signal: AbortSignal }): Promise<void> {
  const pack = tar.pack();
  const sizes = await Promise.all(members.map(async (m) => (await stat(m.file)).size));
  members.forEach((m, i) => {
    if (Buffer.byteLength(m.name) > 100 || m.name.includes("..") || m.name.startsWith("/")) throw exportError(`tar member name ${m.name} must be relative and at most 100 bytes (ustar)`);
    if (sizes[i]! > USTAR_MAX) throw exportError(`${m.name} is ${sizes[i]} bytes, more than the 8 GiB a ustar member holds`);
  });
  const feed = (async () => {
    for (const [i, m] of members.entries()) {
      await new Promise<void>((resolve, reject) => {
        const entry = pack.entry({ name: m.name, size: sizes[i]!, mode: 0o644, mtime: new Date(0), uname: "root", gname: "root", uid: 0, gid: 0 }, (err) => (err ? reject(err) : resolve()));
        pipeline(createReadStream(m.file), entry, { signal: options.signal }).catch(reject);
      });
    }
    pack.finalize();
  })();
  const stages: NodeJS.ReadWriteStream[] = options.gzipLevel ? [createGzip({ level: options.gzipLevel })] : [];
  await Promise.all([feed.catch((e) => { pack.destroy(e); throw e; }), pipeline([pack, ...stages, createWriteStream(out)] as never, { signal: options.signal })]);
}

/** A member as read back: name, size, and header format (`ustar`, `gnu`, `v7`…). */
export interface TarEntry {
  readonly name: string;
  readonly size: number;
  readonly type: string;
  /** The first bytes of the member (up to `peek`). */
  readonly head: Buffer;
}

/** Lists a tar (gzip'd when `gzip`), keeping the first `peek` bytes of each member. */
export async function listTar(file: string, options: { gzip?: boolean; peek?: number } = {}): Promise<TarEntry[]> {
  const extract = tar.extract();
  const entries: TarEntry[] = [];
  extract.on("entry", (header, stream, next) => {
    const chunks: Buffer[] = [];
    let have = 0;
    stream.on("data", (c: unknown) => {
      if (!Buffer.isBuffer(c)) return;
      if (have < (options.peek ?? 0)) { chunks.push(c); have += c.length; }
    });
    stream.on("end", () => {
      entries.push({ name: header.name, size: header.size ?? 0, type: header.type ?? "file", head: Buffer.concat(chunks).subarray(0, options.peek ?? 0) });
      next();
    });
    stream.resume();
  });
  await pipeline([createReadStream(file), ...(options.gzip ? [createGunzip()] : []), extract] as never);
  return entries;
}
