/**
 * Google Compute Engine export: `<name>.tar.gz` holding exactly one member, `disk.raw`, in GNU
 * tar format (`--format=oldgnu`, sparse), gzip'd — what `gcloud compute images create
 * --source-uri` imports. GCE also wants the raw disk's size to be a whole number of GiB, so it is
 * rounded up (the added space is sparse: it costs nothing in the archive).
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, stat } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";
import { execa } from "execa";
import type { ExportImpl } from "./types.js";
import { exportError } from "./support/errors.js";
import { convert, growRaw } from "./support/qemu-img.js";
import { runExport } from "./support/run.js";
import { GiB, roundUp } from "./support/settings.js";

/** Reads the first tar header of a .tar.gz: member name, size, and the magic at offset 257. */
export async function firstTarHeader(file: string): Promise<{ name: string; size: number; magic: string }> {
  const gunzip = createGunzip();
  const chunks: Buffer[] = [];
  let have = 0;
  const done = new Promise<Buffer>((resolve, reject) => {
    gunzip.on("data", (c: Buffer) => {
      chunks.push(c);
      have += c.length;
      if (have >= 512) { resolve(Buffer.concat(chunks)); gunzip.destroy(); }
    });
    gunzip.on("error", reject);
    gunzip.on("end", () => resolve(Buffer.concat(chunks)));
  });
  createReadStream(file).pipe(gunzip);
  const h = await done;
  if (h.length < 512) throw new Error(`${file} holds no tar header`);
  const str = (a: number, b: number) => h.toString("latin1", a, b).replace(/\0.*$/s, "");
  // GNU tar stores big sizes in base-256 (high bit set); oldgnu sparse members keep the real size at 483.
  const sizeField = (off: number) => (h[off]! & 0x80 ? Number(h.readBigUInt64BE(off + 4)) : parseInt(str(off, off + 12).trim() || "0", 8));
  const type = String.fromCharCode(h[156]!);
  return { name: str(0, 100), size: type === "S" ? sizeField(483) : sizeField(124), magic: h.toString("latin1", 257, 265) };
}

/** Lists a .tar.gz with GNU tar (which understands the sparse members tar-stream does not). */
export async function gnuTarList(file: string, signal?: AbortSignal): Promise<string[]> {
  const { stdout } = await execa("tar", ["-t", "-z", "-f", file], signal ? { cancelSignal: signal } : {});
  return stdout.split("\n").filter(Boolean);
}

/** The `export-gce` post-processor. */
export const gce: ExportImpl<"gce"> = {
  type: "export-gce",
  run: (artifact, options, ctx) =>
    runExport("gce", artifact, options, ctx, async ({ source, name, staging }) => {
      const level = options.compressionLevel ?? 6;
      if (!Number.isInteger(level) || level < 1 || level > 9) throw exportError(`compressionLevel must be 1 to 9, got ${level}`);
      const size = roundUp(source.virtualSize, GiB);
      await mkdir(staging.file("raw"));
      const raw = staging.file("raw", "disk.raw");
      await convert(source, { path: raw, format: "raw" }, ctx.signal);
      if (size !== source.virtualSize) {
        ctx.log.log("info", `export gce: rounding the virtual size up from ${source.virtualSize} to ${size} bytes (a whole GiB)`);
        await growRaw(raw, size, ctx.signal);
      }
      const out = `${name}.tar.gz`;
      // GNU tar with the format GCE documents (oldgnu, sparse); gzip in-process at the chosen level.
      const tar = execa("tar", ["--format=oldgnu", "--sparse", "--numeric-owner", "--owner=0", "--group=0", "-c", "-f", "-", "-C", staging.file("raw"), "disk.raw"], { cancelSignal: ctx.signal, buffer: { stdout: false } });
      await Promise.all([tar, pipeline(tar.stdout!, createGzip({ level }), createWriteStream(staging.file(out)), { signal: ctx.signal })]);
      const problems: string[] = [];
      const members = await gnuTarList(staging.file(out), ctx.signal);
      if (members.length !== 1 || members[0] !== "disk.raw") problems.push(`the archive must hold exactly disk.raw, it holds ${members.join(", ")}`);
      const header = await firstTarHeader(staging.file(out));
      if (header.magic !== "ustar  \0") problems.push(`the archive is not in GNU tar format (magic ${JSON.stringify(header.magic)})`);
      if (header.size % GiB !== 0) problems.push(`disk.raw is ${header.size} bytes, GCE needs a whole number of GiB`);
      const rawSize = (await stat(raw)).size;
      if (rawSize !== size) problems.push(`disk.raw is ${rawSize} bytes, expected ${size}`);
      return {
        entries: [out],
        main: out,
        virtualSize: size,
        details: { archive: out, member: "disk.raw", roundedFrom: source.virtualSize, compressionLevel: level },
        problems,
      };
    }),
};
