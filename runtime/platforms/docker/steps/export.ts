/** Writes the container's filesystem to `exportPath` as a tar (atomically: temp file, rename). */
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Step } from "../../../types.js";
import type { DockerContext } from "../context.js";

/** Where the export goes: `exportPath` is relative to the project root. */
export function exportTarget(ctx: DockerContext): string {
  const p = String((ctx.options as { exportPath: unknown }).exportPath);
  return isAbsolute(p) ? p : resolve(ctx.env.projectRoot, p);
}

/** The `export` step. */
export const exportStep: Step<DockerContext> = {
  name: "export",
  async run(ctx, signal) {
    if (!ctx.containerId) throw new Error("export: no build container (the run container step did not run)");
    // End the provisioning shell session first: nothing of ours runs while the filesystem is taken.
    await ctx.comm?.close();
    const target = exportTarget(ctx);
    const part = `${target}.${process.pid}.part`;
    await mkdir(dirname(target), { recursive: true });
    try {
      await pipeline(await ctx.backend.exportContainer(ctx.containerId, signal), createWriteStream(part), { signal });
      await rename(part, target);
    } finally {
      await rm(part, { force: true });
    }
    ctx.exportFile = target;
    ctx.env.log.log("info", `exported the filesystem to ${target}`);
  },
  async cleanup(ctx, outcome) {
    // A tar written by a build that then failed is not an artifact: do not leave it looking like one.
    if (outcome !== "ok" && ctx.exportFile) {
      await rm(ctx.exportFile, { force: true });
      ctx.exportFile = undefined;
    }
  },
};
