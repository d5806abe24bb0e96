/**
 * Fast SFTP transfers over an ssh2 session. SFTP is request/response: one write at a time is
 * bound by the round trip, so every transfer keeps many requests in flight (ssh2's fastPut and
 * fastGet for files; a pipelined writer of our own for buffers and streams) and directory
 * transfers move several files at once.
 */
import { chmod, lstat, mkdir, readdir, readlink, symlink } from "node:fs/promises";
import { join, posix } from "node:path";
import type { Readable } from "node:stream";
import type { SFTPWrapper, Stats } from "ssh2";

/** Tuning of transfers. */
export interface TransferTuning {
  /** Requests in flight per file. */
  readonly concurrency: number;
  /** Bytes per request (OpenSSH's sftp-server accepts up to 255 KiB). */
  readonly chunkSize: number;
  /** Files moved at once in directory transfers. */
  readonly parallelFiles: number;
}

/** ssh2 SFTP errors carry an SFTP status code; this names the path in the message. */
export function sftpError(op: string, path: string, err: unknown): Error {
  const e = err as { code?: number; message?: string };
  const why = e.code === 2 ? "no such file or directory" : e.code === 3 ? "permission denied" : (e.message ?? String(err));
  return new Error(`${op} ${path} failed: ${why}`);
}

function call<T>(fn: (cb: (err: Error | null | undefined, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
}

/** Uploads a local file with parallel requests, then sets its mode. */
export async function putFile(sftp: SFTPWrapper, local: string, remote: string, mode: number, t: TransferTuning): Promise<void> {
  await call<void>((cb) => sftp.fastPut(local, remote, { concurrency: t.concurrency, chunkSize: t.chunkSize, mode }, (err) => cb(err, undefined))).catch((err) => {
    throw sftpError("upload to", remote, err);
  });
  // The server applies its umask when it creates the file: set the mode explicitly.
  await call<void>((cb) => sftp.chmod(remote, mode, (err) => cb(err, undefined))).catch((err) => {
    throw sftpError("chmod", remote, err);
  });
}

/** Writes a buffer or a stream to a remote file, keeping up to `concurrency` writes in flight. */
export async function putData(sftp: SFTPWrapper, source: Buffer | Readable, remote: string, mode: number, t: TransferTuning): Promise<void> {
  const handle = await call<Buffer>((cb) => sftp.open(remote, "w", { mode }, cb)).catch((err) => {
    throw sftpError("upload to", remote, err);
  });
  try {
    let offset = 0;
    const inFlight = new Set<Promise<void>>();
    let failure: Error | undefined;
    const send = (chunk: Buffer) => {
      const at = offset;
      offset += chunk.length;
      const p = call<void>((cb) => sftp.write(handle, chunk, 0, chunk.length, at, (err) => cb(err, undefined)))
        .catch((err) => {
          failure ??= sftpError("write to", remote, err);
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    };
    const chunks: AsyncIterable<Buffer> = Buffer.isBuffer(source) ? sliceBuffer(source, t.chunkSize) : (source as AsyncIterable<Buffer>);
    for await (const chunk of chunks) {
      const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      for (let i = 0; i < buf.length; i += t.chunkSize) {
        if (inFlight.size >= t.concurrency) await Promise.race(inFlight);
        if (failure) throw failure;
        send(buf.subarray(i, i + t.chunkSize));
      }
    }
    await Promise.all(inFlight);
    if (failure) throw failure;
    await call<void>((cb) => sftp.fchmod(handle, mode, (err) => cb(err, undefined)));
  } finally {
    await call<void>((cb) => sftp.close(handle, (err) => cb(err, undefined))).catch(() => {});
  }
}

async function* sliceBuffer(buf: Buffer, size: number): AsyncIterable<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
  if (buf.length === 0) return;
}

/** Downloads a remote file with parallel requests. */
export async function getFile(sftp: SFTPWrapper, remote: string, local: string, t: TransferTuning): Promise<void> {
  await call<void>((cb) => sftp.fastGet(remote, local, { concurrency: t.concurrency, chunkSize: t.chunkSize }, (err) => cb(err, undefined))).catch((err) => {
    throw sftpError("download of", remote, err);
  });
}

/** Stat of a remote path, or undefined when it does not exist. */
export async function remoteStat(sftp: SFTPWrapper, remote: string): Promise<Stats | undefined> {
  return call<Stats>((cb) => sftp.stat(remote, cb)).catch((err: { code?: number }) => {
    if (err.code === 2) return undefined;
    throw sftpError("stat", remote, err);
  });
}

/** Runs `work` over `items` with at most `limit` at once; the first failure wins. */
export async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Copies a local directory tree into an existing or new remote directory, over SFTP. */
export async function putDirSftp(sftp: SFTPWrapper, localDir: string, remoteDir: string, t: TransferTuning): Promise<void> {
  const files: { local: string; remote: string; mode: number }[] = [];
  const mkdirRemote = async (dir: string, mode: number) => {
    const st = await remoteStat(sftp, dir);
    if (st?.isDirectory()) return;
    await call<void>((cb) => sftp.mkdir(dir, { mode }, (err) => cb(err, undefined))).catch((err) => {
      throw sftpError("mkdir", dir, err);
    });
    await call<void>((cb) => sftp.chmod(dir, mode, (err) => cb(err, undefined)));
  };
  const walk = async (local: string, remote: string) => {
    const st = await lstat(local);
    await mkdirRemote(remote, st.mode & 0o7777);
    for (const entry of await readdir(local, { withFileTypes: true })) {
      const l = join(local, entry.name);
      const r = posix.join(remote, entry.name);
      if (entry.isDirectory()) await walk(l, r);
      else if (entry.isSymbolicLink()) {
        const target = await readlink(l);
        await call<void>((cb) => sftp.symlink(target, r, (err) => cb(err, undefined))).catch((err) => {
          throw sftpError("symlink", r, err);
        });
      } else if (entry.isFile()) files.push({ local: l, remote: r, mode: (await lstat(l)).mode & 0o7777 });
    }
  };
  await walk(localDir, remoteDir);
  await inParallel(files, t.parallelFiles, (f) => putFile(sftp, f.local, f.remote, f.mode, t));
}

/** Copies a remote directory tree to a local directory, over SFTP. */
export async function getDirSftp(sftp: SFTPWrapper, remoteDir: string, localDir: string, t: TransferTuning): Promise<void> {
  const files: { local: string; remote: string; mode: number }[] = [];
  const walk = async (remote: string, local: string) => {
    await mkdir(local, { recursive: true });
    const list = await call<{ filename: string; attrs: Stats }[]>((cb) => sftp.readdir(remote, cb as never)).catch((err) => {
      throw sftpError("list", remote, err);
    });
    for (const { filename, attrs } of list) {
      const r = posix.join(remote, filename);
      const l = join(local, filename);
      if (attrs.isDirectory()) await walk(r, l);
      else if (attrs.isSymbolicLink()) await symlink(await call<string>((cb) => sftp.readlink(r, cb)), l);
      else if (attrs.isFile()) files.push({ local: l, remote: r, mode: attrs.mode & 0o7777 });
    }
  };
  await walk(remoteDir, localDir);
  await inParallel(files, t.parallelFiles, async (f) => {
    await getFile(sftp, f.remote, f.local, t);
    await chmod(f.local, f.mode);
  });
}

