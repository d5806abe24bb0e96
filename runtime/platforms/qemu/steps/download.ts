/**
 * Step "download": fetches the ISO (or source disk image) into a cache directory keyed by its
 * checksum, resuming a partial download, and verifies it. A wrong checksum fails here, before
 * any VM starts. Local files (`file://` or a path) are verified in place, never copied.
 */
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import type { Step } from "../../../types.js";
import { fetchWithRetry } from "../fetch-retry.js";
import { digestFile, resolveChecksum, type Checksum } from "../checksum.js";
import type { QemuContext } from "../context.js";

async function size(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

/** Downloads `url` to `dest`, resuming from `dest.part`. */
async function httpDownload(url: string, dest: string, signal: AbortSignal, log: (m: string) => void): Promise<void> {
  const part = `${dest}.part`;
  const have = (await size(part)) ?? 0;
  const res = await fetchWithRetry(url, { signal, headers: have > 0 ? { Range: `bytes=${have}-` } : {} }, "download of");
  if (res.status === 416 && have > 0) {
    // The partial file is already complete.
    await rename(part, dest);
    return;
  }
  if (!res.ok || !res.body) throw new Error(`download of ${url} failed: HTTP ${res.status}`);
  const resumed = res.status === 206 && have > 0;
  if (resumed) log(`resuming ${basename(dest)} at ${have} bytes`);
  await pipeline(Readable.fromWeb(res.body as never), createWriteStream(part, { flags: resumed ? "a" : "w" }), { signal });
  await rename(part, dest);
}

async function verify(path: string, sum: Checksum | undefined, what: string, signal: AbortSignal): Promise<void> {
  if (!sum) return;
  const actual = await digestFile(path, sum.algorithm, signal);
  if (actual !== sum.hex) throw new Error(`${what} has ${sum.algorithm} ${actual}, but the checksum says ${sum.hex}; refusing to use it`);
}

/** Gets one URL: a verified local path. */
export async function fetchVerified(ctx: QemuContext, url: string, signal: AbortSignal): Promise<string> {
  const c = ctx.config;
  const spec = c.isoChecksum ?? "none";
  const log = (m: string) => ctx.env.log.log("info", m);
  const isRemote = /^https?:\/\//i.test(url);
  if (isRemote && spec.toLowerCase() === "none") {
    throw new Error(`${c.nodeId}: isoChecksum is needed to download ${url} (sha256:…, or file:<url of SHA256SUMS>)`);
  }
  const sum = await resolveChecksum(spec, url, ctx.env.projectRoot, signal);
  if (!isRemote) {
    const path = url.startsWith("file://") ? fileURLToPath(url) : url;
    if ((await size(path)) === undefined) throw new Error(`${c.nodeId}: ${path} does not exist`);
    await verify(path, sum, path, signal);
    return path;
  }
  await mkdir(c.cacheDirectory, { recursive: true });
  const ext = extname(new URL(url).pathname) || ".img";
  const dest = join(c.cacheDirectory, `${sum!.algorithm}-${sum!.hex}${ext}`);
  if ((await size(dest)) !== undefined) {
    log(`using cached ${basename(dest)}`);
    try {
      await verify(dest, sum, `cached ${dest}`, signal);
      return dest;
    } catch {
      log(`cached ${basename(dest)} is corrupt; downloading again`);
      await rm(dest, { force: true });
    }
  }
  log(`downloading ${url}`);
  await httpDownload(url, dest, signal, log);
  try {
    await verify(dest, sum, `downloaded ${url}`, signal);
  } catch (error) {
    await rm(dest, { force: true });
    throw error;
  }
  return dest;
}

/** Tries each URL in turn; the first that downloads and verifies wins. */
export const downloadStep: Step<QemuContext> = {
  name: "download",
  async run(ctx, signal) {
    const c = ctx.config;
    const errors: string[] = [];
    for (const url of c.isoUrls) {
      try {
        const path = await fetchVerified(ctx, url, signal);
        if (c.diskImage) ctx.source = { path, format: "" };
        else ctx.iso = path;
        return;
      } catch (error) {
        if (signal.aborted) throw error;
        errors.push((error as Error).message);
      }
    }
    throw new Error(errors.length === 1 ? errors[0]! : `no ISO URL worked:\n  ${errors.join("\n  ")}`);
  },
};
