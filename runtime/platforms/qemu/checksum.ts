/**
 * Checksums of downloads, in Packer's forms: `sha256:<hex>`, `sha512:`, `sha1:`, `md5:`, a bare
 * hex digest (the algorithm from its length), `file:<url or path>` of a checksum file
 * (`SHA256SUMS` or BSD style, the line naming the download's file name), or `none`.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { fetchWithRetry } from "./fetch-retry.js";

/** An expected digest. */
export interface Checksum {
  readonly algorithm: "sha256" | "sha512" | "sha1" | "md5";
  /** Lower-case hex. */
  readonly hex: string;
}

const BY_LENGTH: Record<number, Checksum["algorithm"]> = { 32: "md5", 40: "sha1", 64: "sha256", 128: "sha512" };

/** Parses an inline checksum (not `file:`); undefined for `none`. */
export function parseInlineChecksum(spec: string, where = "isoChecksum"): Checksum | undefined {
  const s = spec.trim();
  if (s.toLowerCase() === "none") return undefined;
  const m = /^(?:(sha256|sha512|sha1|md5):)?([0-9a-fA-F]+)$/.exec(s);
  if (!m) throw new Error(`${where} "${spec}" is not valid: write sha256:<hex>, sha512:<hex>, md5:<hex>, file:<url>, or none`);
  const hex = m[2]!.toLowerCase();
  const algorithm = (m[1] as Checksum["algorithm"] | undefined) ?? BY_LENGTH[hex.length];
  if (!algorithm) throw new Error(`${where}: a bare digest of ${hex.length} hex digits matches no algorithm; prefix it, e.g. sha256:`);
  const expected = { md5: 32, sha1: 40, sha256: 64, sha512: 128 }[algorithm];
  if (hex.length !== expected) throw new Error(`${where}: a ${algorithm} digest has ${expected} hex digits, this one has ${hex.length}`);
  return { algorithm, hex };
}

/** Finds the digest of `fileName` in the text of a checksum file. */
export function findInChecksumFile(text: string, fileName: string, where: string): Checksum {
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    // GNU: "<hex>  name" or "<hex> *name"; BSD: "SHA256 (name) = <hex>".
    const gnu = /^([0-9a-fA-F]{32,128})\s+\*?(.+)$/.exec(line);
    if (gnu && (gnu[2]!.trim() === fileName || basename(gnu[2]!.trim()) === fileName)) return parseInlineChecksum(gnu[1]!, where)!;
    const bsd = /^(SHA256|SHA512|SHA1|MD5)\s*\((.+)\)\s*=\s*([0-9a-fA-F]+)$/i.exec(line);
    if (bsd && (bsd[2] === fileName || basename(bsd[2]!) === fileName)) return parseInlineChecksum(`${bsd[1]!.toLowerCase()}:${bsd[3]}`, where)!;
  }
  const single = text.trim();
  if (/^[0-9a-fA-F]+$/.test(single)) return parseInlineChecksum(single, where)!;
  throw new Error(`${where}: the checksum file has no line for ${fileName}`);
}

/** Reads a checksum file from `file://`, `http(s)://` or a local path (relative to `root`). */
async function fetchText(url: string, root: string, signal: AbortSignal): Promise<string> {
  if (/^https?:\/\//i.test(url)) {
    const res = await fetchWithRetry(url, { signal }, "fetching the checksum file");
    if (!res.ok) throw new Error(`checksum file ${url} answered HTTP ${res.status}`);
    return res.text();
  }
  const path = url.startsWith("file://") ? fileURLToPath(url) : isAbsolute(url) ? url : resolve(root, url);
  return readFile(path, "utf8");
}

/** Resolves a checksum spec for the download at `url`; undefined for `none`. */
export async function resolveChecksum(spec: string, url: string, root: string, signal: AbortSignal, where = "isoChecksum"): Promise<Checksum | undefined> {
  if (spec.startsWith("file:")) {
    const text = await fetchText(spec.slice("file:".length), root, signal);
    const name = basename(new URL(url, "file:///").pathname);
    return findInChecksumFile(text, name, where);
  }
  return parseInlineChecksum(spec, where);
}

/** The hex digest of a file. */
export function digestFile(path: string, algorithm: Checksum["algorithm"], signal?: AbortSignal): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash(algorithm);
    const stream = createReadStream(path, { highWaterMark: 1 << 20, signal });
    stream.on("data", (chunk) => hash.update(chunk));
    stream.on("error", reject);
    stream.on("end", () => resolvePromise(hash.digest("hex")));
  });
}
