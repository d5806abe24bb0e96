/**
 * The `compress` post-processor: packs the artifact's files into one archive (tar.gz, zip, or
 * gz for a single file) at a chosen level (1–9). The archive becomes the artifact; the input
 * files are deleted when `keepInputArtifact` is false (as Packer's default is).
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { outputPath } from "./paths.js";
import type { PostProcessorImpl } from "./registry.js";

/** Resolved options of `compress`. */
export interface CompressOptions {
  readonly output: unknown;
  readonly format?: "tar.gz" | "zip" | "gz";
  readonly level?: number;
}

/** The format an output name implies. */
export function formatOf(path: string): "tar.gz" | "zip" | "gz" | undefined {
  if (/\.(tar\.gz|tgz)$/i.test(path)) return "tar.gz";
  if (/\.zip$/i.test(path)) return "zip";
  if (/\.gz$/i.test(path)) return "gz";
  return undefined;
}

async function writeTarGz(files: readonly string[], out: string, level: number, signal: AbortSignal): Promise<void> {
  const tar = await import("tar-stream");
  const pack = tar.pack();
  const done = pipeline(pack, createGzip({ level }), createWriteStream(out), { signal });
  for (const file of files) {
    const st = await stat(file);
    const entry = pack.entry({ name: basename(file), size: st.size, mode: st.mode & 0o7777, mtime: st.mtime });
    await pipeline(createReadStream(file), entry, { signal });
  }
  pack.finalize();
  await done;
}

async function writeZip(files: readonly string[], out: string, level: number, signal: AbortSignal): Promise<void> {
  const { ZipFile } = await import("yazl");
  const zip = new ZipFile();
  for (const file of files) zip.addFile(file, basename(file), { compress: level > 0, compressionLevel: level });
  const done = pipeline(zip.outputStream, createWriteStream(out), { signal });
  zip.end();
  await done;
}

/** The compress post-processor. */
export const compressPost: PostProcessorImpl<CompressOptions> = {
  type: "compress",
  async run(input, options, ctx, signal) {
    const out = outputPath(options.output, ctx.projectRoot, { BuildName: ctx.node, BuilderType: ctx.platformType });
    const format = options.format ?? formatOf(out);
    if (!format) throw new Error(`compress: cannot tell the format of ${out}; name it .tar.gz, .zip or .gz, or set format`);
    const level = options.level ?? 6;
    if (!Number.isInteger(level) || level < 1 || level > 9) throw new Error(`compress: level ${level} is not valid; use 1 (fastest) to 9 (smallest)`);
    if (input.files.length === 0) throw new Error(`compress: the artifact ${input.id} has no local files`);
    if (format === "gz" && input.files.length !== 1) throw new Error(`compress: gz holds one file, the artifact has ${input.files.length}; use tar.gz or zip`);
    await mkdir(dirname(out), { recursive: true });
    // Written beside, then renamed: an interrupted compress leaves no half archive under the real name.
    const temp = `${out}.${process.pid}.part`;
    try {
      if (format === "tar.gz") await writeTarGz(input.files, temp, level, signal);
      else if (format === "zip") await writeZip(input.files, temp, level, signal);
      else await pipeline(createReadStream(input.files[0]!), createGzip({ level }), createWriteStream(temp), { signal });
      await rename(temp, out);
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw error;
    }
    ctx.log.log("info", `compress: ${out} (${format}, level ${level})`);
    return { artifact: { node: input.node, platform: input.platform, id: out, files: [out], data: { postProcessor: "compress", format, level, input: input.id } } };
  },
};
export default compressPost;
