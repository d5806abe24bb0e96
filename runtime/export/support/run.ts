/**
 * What every export does around its format: find the source disk, check the name, write into a
 * staging directory, check the result against the format's rules, publish it, hash every file,
 * and describe the new artifact. A failure or cancellation at any point leaves no files.
 */
import { readdir, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import type { Json } from "../../../lang/values.js";
import type { ArtifactRecord } from "../../types.js";
import type { ExportFormat } from "../factory.js";
import type { ExportArtifactData, ExportContext } from "../types.js";
import { exportError } from "./errors.js";
import { describeFile, Staging } from "./files.js";
import { outputDirectory, outputName } from "./settings.js";
import { sourceDisk, type SourceDisk } from "./source.js";

/** What a format's writer gets. */
export interface ExportJob {
  readonly source: SourceDisk;
  /** The output name (files and VM). */
  readonly name: string;
  /** Where to write; only `staging.file(...)` paths. */
  readonly staging: Staging;
  readonly ctx: ExportContext;
}

/** What a format's writer returns. */
export interface ExportOutput {
  /** Top-level entries written in the staging directory (files or bundle directories). */
  readonly entries: readonly string[];
  /** The entry that is the artifact's id (the OVA, the .vmx, the bundle…), relative to the staging directory. */
  readonly main: string;
  /** The disk's virtual size in the output. */
  readonly virtualSize: number;
  /** Format-specific facts for `data.details`. */
  readonly details: { readonly [key: string]: Json };
  /** Problems found by checking the written files against the format's rules (empty: sound). */
  readonly problems: readonly string[];
}

async function walk(path: string): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) return [path];
  const names = (await readdir(path)).sort();
  return (await Promise.all(names.map((n) => walk(join(path, n))))).flat();
}

/** Runs one export around its format-specific `write`. */
export async function runExport(
  format: ExportFormat,
  artifact: ArtifactRecord,
  options: { readonly name?: string; readonly directory?: unknown },
  ctx: ExportContext,
  write: (job: ExportJob) => Promise<ExportOutput>,
): Promise<ArtifactRecord<ExportArtifactData>> {
  const name = outputName(options.name, ctx.node.image);
  const directory = outputDirectory(options.directory);
  const source = await sourceDisk(artifact, ctx.signal);
  const staging = await Staging.create(directory);
  try {
    ctx.log.log("info", `export ${format}: ${source.path} (${source.format}, ${source.virtualSize} bytes) → ${directory}`);
    const out = await write({ source, name, staging, ctx });
    if (out.problems.length) {
      throw exportError(`the ${format} export of ${artifact.node} breaks the format's rules: ${out.problems.join("; ")}`, "this is a bug in imgc's export; please report it with the message");
    }
    ctx.signal.throwIfAborted();
    const published = await staging.publish(out.entries);
    const main = join(directory, out.main);
    const paths = (await Promise.all(published.map(walk))).flat();
    const files = [];
    for (const p of paths) files.push(await describeFile(p, ctx.signal));
    ctx.log.log("info", `export ${format}: wrote ${files.map((f) => relative(directory, f.path)).join(", ")}`);
    return {
      node: artifact.node,
      platform: artifact.platform,
      id: main,
      files: files.map((f) => f.path),
      data: {
        kind: "export",
        format,
        outputs: published,
        files,
        virtualSize: out.virtualSize,
        source: { path: source.path, format: source.format, virtualSize: source.virtualSize },
        details: out.details,
      },
    };
  } finally {
    await staging.discard();
  }
}
