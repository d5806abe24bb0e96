/**
 * The `manifest` post-processor: appends a Packer-compatible entry to `manifest.json`
 * (`builds[]` with name, builder_type, build_time, files, artifact_id, packer_run_uuid,
 * custom_data; `last_run_uuid`), keeping the entries of earlier runs as Packer does.
 */
import { mkdir, readFile, stat } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { writeFileAtomic } from "../state/atomic-write.js";
import type { ArtifactRecord } from "../types.js";
import { outputPath } from "./paths.js";
import type { PostContext, PostProcessorImpl } from "./registry.js";

/** Resolved options of `manifest`. */
export interface ManifestOptions {
  readonly output?: unknown;
  readonly stripPath?: boolean;
  readonly customData?: Readonly<Record<string, string>>;
}

/** One build entry, as Packer writes it. */
export interface ManifestBuild {
  readonly name: string;
  readonly builder_type: string;
  readonly build_time: number;
  readonly files: readonly { readonly name: string; readonly size: number }[];
  readonly artifact_id: string;
  readonly packer_run_uuid: string;
  readonly custom_data: Readonly<Record<string, string>> | null;
}

/** The manifest file. */
export interface ManifestFile {
  builds: ManifestBuild[];
  last_run_uuid: string;
}

// Nodes finish concurrently and may share one manifest: read-modify-write per file, in turn.
const queues = new Map<string, Promise<unknown>>();
function serialised<T>(key: string, work: () => Promise<T>): Promise<T> {
  const next = (queues.get(key) ?? Promise.resolve()).then(work, work);
  queues.set(key, next.catch(() => {}));
  return next;
}

async function readManifest(path: string): Promise<ManifestFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { builds: [], last_run_uuid: "" };
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as ManifestFile;
    return { builds: Array.isArray(parsed.builds) ? parsed.builds : [], last_run_uuid: parsed.last_run_uuid ?? "" };
  } catch (error) {
    throw new Error(`the manifest ${path} is not valid JSON (${(error as Error).message}); fix or remove it`);
  }
}

async function fileEntries(artifact: ArtifactRecord, stripPath: boolean): Promise<ManifestBuild["files"]> {
  return Promise.all(
    artifact.files.map(async (f) => ({ name: stripPath ? basename(f) : f, size: (await stat(f).catch(() => undefined))?.size ?? 0 })),
  );
}

/** The manifest post-processor. */
export const manifestPost: PostProcessorImpl<ManifestOptions> = {
  type: "manifest",
  async run(input, options, ctx: PostContext) {
    const path = outputPath(options.output ?? "manifest.json", ctx.projectRoot, { BuildName: ctx.node });
    const entry: ManifestBuild = {
      name: ctx.node,
      builder_type: ctx.platformType,
      build_time: ctx.buildTime,
      files: await fileEntries(input, options.stripPath ?? false),
      artifact_id: input.id,
      packer_run_uuid: ctx.runId,
      custom_data: options.customData ? { ...options.customData } : null,
    };
    await serialised(path, async () => {
      const manifest = await readManifest(path);
      manifest.builds.push(entry);
      manifest.last_run_uuid = ctx.runId;
      await mkdir(dirname(path), { recursive: true });
      await writeFileAtomic(path, ctx.redactText(JSON.stringify(manifest, null, 2)) + "\n", 0o644);
    });
    ctx.log.log("info", `manifest: ${path}`);
    return { keepInput: true };
  },
};
export default manifestPost;
