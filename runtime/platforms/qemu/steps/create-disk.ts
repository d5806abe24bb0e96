/**
 * Step "create-disk": the build disk in the scratch directory. From a disk image it is a qcow2
 * overlay backed by the source (`useBackingFile`, constant time whatever the source's size) or
 * a full copy; from an installer, a blank qcow2 of `diskSize`. The source is never written.
 */
import { copyFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Step } from "../../../types.js";
import { createDiskArgs } from "../args.js";
import type { QemuContext } from "../context.js";

export const createDiskStep: Step<QemuContext> = {
  name: "create-disk",
  async run(ctx, signal) {
    const c = ctx.config;
    if (c.sourceImage && !ctx.source) ctx.source = { path: c.sourceImage, format: "" };
    const path = join(ctx.workDir, `${c.vmName}-build.qcow2`);
    if (ctx.source) {
      const info = await ctx.backend.diskInfo(ctx.source.path, signal);
      ctx.source = { path: ctx.source.path, format: info.format };
      const grow = c.diskSize !== undefined && c.diskSize > info.virtualSize ? c.diskSize : undefined;
      if (c.useBackingFile) {
        ctx.disk = { path, format: "qcow2", temporary: true };
        await ctx.backend.img(createDiskArgs(path, { backing: ctx.source.path, backingFormat: info.format, sizeBytes: grow }), signal);
      } else {
        const copy = join(ctx.workDir, `${c.vmName}-build.${info.format}`);
        ctx.disk = { path: copy, format: info.format, temporary: true };
        await copyFile(ctx.source.path, copy);
        if (grow) await ctx.backend.img(["resize", "-q", "-f", info.format, copy, String(grow)], signal);
      }
      ctx.env.log.log("info", `build disk: ${c.useBackingFile ? "overlay on" : "copy of"} ${ctx.source.path} (${info.format}, ${(info.virtualSize / 1024 ** 3).toFixed(1)} GiB)`);
    } else {
      ctx.disk = { path, format: "qcow2", temporary: true };
      await ctx.backend.img(createDiskArgs(path, { sizeBytes: c.diskSize ?? 10 * 1024 ** 3 }), signal);
    }
    ctx.env.log.track({ kind: "disk", id: ctx.disk.path });
  },
  async cleanup(ctx) {
    if (!ctx.disk?.temporary) return;
    await rm(ctx.disk.path, { force: true });
    ctx.env.log.untrack({ kind: "disk", id: ctx.disk.path });
    ctx.disk = undefined;
  },
};
