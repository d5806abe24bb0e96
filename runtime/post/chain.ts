/**
 * Runs a node's post-processors in order, each on the artifact the previous one produced
 * (Packer's chain). Each has its own key, sha256(node key, type, options), so an up-to-date
 * node re-runs only the post-processors whose options changed (and the ones after them).
 */
import { createHash } from "node:crypto";
import { access, unlink } from "node:fs/promises";
import type { GraphNode, IrStep } from "../../compiler/ir.js";
import type { Json } from "../../lang/values.js";
import type { PostRecord } from "../state/store.js";
import type { ArtifactRecord } from "../types.js";
import { loadPostProcessor, type PostContext } from "./registry.js";

/** Canonical JSON: sorted keys; `$path` markers hashed by `rel` and `digest`, never the absolute path. */
export function canonical(json: Json | undefined): string {
  if (json === undefined) return "null";
  if (Array.isArray(json)) return `[${json.map((j) => canonical(j as Json)).join(",")}]`;
  if (json && typeof json === "object") {
    const obj = { ...(json as Record<string, Json>) };
    if ("$path" in obj) delete obj.$path;
    return `{${Object.keys(obj).sort().map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`).join(",")}}`;
  }
  return JSON.stringify(json);
}

/** The key of post-processor `index` of `node`: a chain, so a change re-runs everything after it. */
export function postKeys(node: GraphNode): string[] {
  let prev = node.key;
  return node.post.map((step) => {
    // The compiler's own key when it gives one; otherwise the same derivation here.
    if (step.key) return (prev = step.key);
    prev = "sha256:" + createHash("sha256").update(`imgc.post.v1\0${prev}\0${step.type}\0${canonical(step.options)}`).digest("hex");
    return prev;
  });
}

/** The first post-processor that must run for an up-to-date node (`post.length` when none). */
export async function firstStalePost(node: GraphNode, records: readonly PostRecord[] | undefined): Promise<number> {
  const keys = postKeys(node);
  for (let i = 0; i < keys.length; i++) {
    const rec = records?.[i];
    if (!rec || rec.key !== keys[i] || rec.type !== node.post[i]!.type) return i;
    // Its output files must still be there.
    for (const f of rec.artifact.files) {
      try {
        await access(f);
      } catch {
        return i;
      }
    }
  }
  return keys.length;
}

/** What running a chain needs. */
export interface ChainOptions {
  readonly node: GraphNode;
  /** The builder's artifact. */
  readonly artifact: ArtifactRecord;
  /** Records of an earlier run (kept for the post-processors before `from`). */
  readonly previous?: readonly PostRecord[];
  /** Index of the first post-processor to run. @default 0 */
  readonly from?: number;
  /** Resolves one post-processor's options (their `$ref`s). */
  readonly resolveOptions: (step: IrStep, index: number) => Json;
  readonly context: PostContext;
  /** Deletes the builder's artifact (`keepInputArtifact: false` on the first post-processor). */
  readonly destroyBuilderArtifact: (artifact: ArtifactRecord) => Promise<void>;
  readonly signal: AbortSignal;
  readonly onPost?: (index: number, type: string, status: "done" | "up-to-date" | "failed", artifactId?: string, error?: Error) => void;
}

/** Runs the chain; returns the records of every post-processor, in order. */
export async function runPostChain(options: ChainOptions): Promise<PostRecord[]> {
  const { node, signal } = options;
  const keys = postKeys(node);
  const from = options.from ?? 0;
  const records: PostRecord[] = [];
  let current = options.artifact;
  for (let i = 0; i < from; i++) {
    const rec = options.previous![i]!;
    records.push(rec);
    current = rec.artifact;
    options.onPost?.(i, rec.type, "up-to-date", rec.artifact.id);
  }
  for (let i = from; i < node.post.length; i++) {
    signal.throwIfAborted();
    const step = node.post[i]!;
    try {
      const impl = await loadPostProcessor(step.type);
      const resolved = options.resolveOptions(step, i) as Record<string, Json>;
      const result = await impl.run(current, resolved, options.context, signal);
      const keepOption = resolved && typeof resolved === "object" ? resolved.keepInputArtifact : undefined;
      const consumed = Boolean(result.artifact) && !result.keepInput && keepOption === false;
      if (consumed) {
        if (i === 0) await options.destroyBuilderArtifact(current);
        else {
          const prevImpl = await loadPostProcessor(node.post[i - 1]!.type);
          if (prevImpl.destroy) await prevImpl.destroy(current, signal);
          else await Promise.all(current.files.map((f) => unlink(f).catch(() => {})));
        }
      }
      const next = result.artifact ?? current;
      records.push({ type: step.type, key: keys[i]!, artifact: next, ...(consumed ? { consumedInput: true } : {}) });
      current = next;
      options.onPost?.(i, step.type, "done", next.id);
    } catch (error) {
      options.onPost?.(i, step.type, "failed", undefined, error as Error);
      throw new Error(`post-processor #${i + 1} (${step.type}) failed: ${(error as Error).message}`, { cause: error });
    }
  }
  return records;
}
