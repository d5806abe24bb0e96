/**
 * Plugs an export into the runtime's post-processor registry: `PostProcessorImpl.run(input,
 * options, ctx, signal)` → `{ artifact }`, with a private scratch directory for the export's
 * intermediate files, and `destroy` that removes what the export wrote.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PostContext, PostProcessorImpl, PostResult } from "../post/registry.js";
import type { ArtifactRecord } from "../types.js";
import type { ExportImpl } from "./types.js";

/** The image name of a node id (`web.qemu` → `web`; image names hold no dot). */
export function imageOf(node: string): string {
  const dot = node.indexOf(".");
  return dot < 0 ? node : node.slice(0, dot);
}

/** The registry's view of an export. */
export function asPostProcessor(impl: ExportImpl<any>): PostProcessorImpl {
  return {
    type: impl.type,
    async run(input: ArtifactRecord, options: any, ctx: PostContext, signal: AbortSignal): Promise<PostResult> {
      const workDir = await mkdtemp(join(tmpdir(), "imgc-export-"));
      try {
        const artifact = await impl.run(input, options ?? {}, { node: { id: ctx.node, image: imageOf(ctx.node) }, log: ctx.log, workDir, signal });
        return { artifact };
      } finally {
        await rm(workDir, { recursive: true, force: true });
      }
    },
    async destroy(artifact: ArtifactRecord): Promise<void> {
      const data = artifact.data as { outputs?: unknown };
      const outputs = Array.isArray(data.outputs) ? (data.outputs as string[]) : artifact.files;
      await Promise.all(outputs.map((p) => rm(p, { recursive: true, force: true })));
    },
  };
}
