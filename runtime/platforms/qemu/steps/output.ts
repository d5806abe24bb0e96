/**
 * Step "output": writes the final disk into `outputDirectory` as `<vmName>.<format>`: a
 * standalone copy converted by `qemu-img` (which drops unused blocks, optionally compressed),
 * or the overlay itself with `keepBackingFile`. The file is written under a temporary name and
 * renamed, so a failed or cancelled build never leaves a half-written disk where the previous
 * image was. Records size, virtual size and sha256.
 */
import { copyFile, mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Step } from "../../../types.js";
import { convertArgs } from "../args.js";
import { digestFile } from "../checksum.js";
import type { QemuContext } from "../context.js";

export const outputStep: Step<QemuContext> = {
  name: "output",
  async run(ctx, signal) {
    const c = ctx.config;
    const disk = ctx.disk!;
    await mkdir(c.outputDirectory, { recursive: true });
    const final = join(c.outputDirectory, `${c.vmName}.${c.format}`);
    const partial = `${final}.imgc-partial`;
    ctx.partialOutput = partial;
    let backingFile: string | undefined;
    if (c.keepBackingFile && ctx.source && c.useBackingFile) {
      await copyFile(disk.path, partial);
      backingFile = ctx.source.path;
    } else if (c.skipCompaction && disk.format === c.format && !(ctx.source && c.useBackingFile)) {
      await rename(disk.path, partial);
    } else {
      ctx.env.log.log("info", `writing ${final} (${c.format}${c.diskCompression ? ", compressed" : ""})`);
      await ctx.backend.img(convertArgs(disk.path, partial, c.format, c.diskCompression), signal);
    }
    await rename(partial, final);
    ctx.partialOutput = undefined;
    const [info, st, sha256] = await Promise.all([ctx.backend.diskInfo(final, signal), stat(final), digestFile(final, "sha256", signal)]);
    ctx.output = { path: final, format: c.format, size: st.size, virtualSize: info.virtualSize, sha256, ...(backingFile ? { backingFile } : {}) };
    ctx.env.log.log("info", `image: ${final} (${(st.size / 1024 ** 2).toFixed(1)} MiB, sha256 ${sha256.slice(0, 12)}…)`);
  },
  async cleanup(ctx) {
    if (ctx.partialOutput) await rm(ctx.partialOutput, { force: true });
    ctx.partialOutput = undefined;
  },
};
