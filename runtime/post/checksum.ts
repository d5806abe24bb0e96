/**
 * The `checksum` post-processor: writes one checksum file per algorithm (md5, sha1, sha256,
 * sha512) listing each artifact file as Packer does (`<hex>\t<file name>`). Its artifact is the
 * checksum files; its input is always kept.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { appendFile, mkdir, writeFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { pipeline } from "node:stream/promises";
import { outputPath } from "./paths.js";
import type { PostProcessorImpl } from "./registry.js";

/** Algorithms `checksum` knows. */
export const CHECKSUM_TYPES = ["md5", "sha1", "sha256", "sha512"] as const;

/** Resolved options of `checksum`. */
export interface ChecksumOptions {
  readonly types?: readonly string[];
  readonly output?: unknown;
}

/** Hex digest of a file. */
export async function fileDigest(path: string, algorithm: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash(algorithm);
  await pipeline(createReadStream(path), hash, signal ? { signal } : {});
  return hash.digest("hex");
}

/** The checksum post-processor. */
export const checksumPost: PostProcessorImpl<ChecksumOptions> = {
  type: "checksum",
  async run(input, options, ctx, signal) {
    const types = options.types?.length ? options.types : ["md5"];
    for (const t of types) {
      if (!(CHECKSUM_TYPES as readonly string[]).includes(t)) throw new Error(`checksum type "${t}" is not supported; use ${CHECKSUM_TYPES.join(", ")}`);
    }
    if (input.files.length === 0) throw new Error(`the artifact ${input.id} has no local files to checksum`);
    const written: string[] = [];
    const sums: Record<string, Record<string, string>> = {};
    for (const type of types) {
      const path = outputPath(options.output ?? "{{.BuildName}}_{{.ChecksumType}}.checksum", ctx.projectRoot, { BuildName: ctx.node, ChecksumType: type, BuilderType: ctx.platformType });
      await mkdir(dirname(path), { recursive: true });
      // A fresh file per run for this build (Packer truncates it when it first opens it).
      if (!written.includes(path)) await writeFile(path, "");
      sums[type] = {};
      for (const file of input.files) {
        const hex = await fileDigest(file, type, signal);
        sums[type]![basename(file)] = hex;
        await appendFile(path, `${hex}\t${basename(file)}\n`);
      }
      if (!written.includes(path)) written.push(path);
    }
    ctx.log.log("info", `checksum: ${written.join(", ")}`);
    return {
      keepInput: true,
      artifact: { node: input.node, platform: input.platform, id: written.join(","), files: written, data: { postProcessor: "checksum", input: input.id, checksums: sums } },
    };
  },
};
export default checksumPost;
