/** Post-processor specs: plain data describing what to do with a node's artifact after the build. */
import { IMGC, isKind } from "./brand.js";
import type { SourceSite } from "./site.js";

/** Options every post-processor accepts. */
export interface CommonPostOptions {
  /** Keep the artifact this post-processor consumed (otherwise a later step may drop it). @default true */
  readonly keepInputArtifact?: boolean;
  /** Run only for these platforms (node name suffixes). */
  readonly only?: readonly string[];
  /** Skip for these platforms. */
  readonly except?: readonly string[];
}

/** One post-processing step, as data. */
export interface PostProcessorSpec<K extends string = string, O = unknown> {
  readonly [IMGC]: "post";
  /** The post-processor type, e.g. `manifest`, `checksum`, `docker-tag`. */
  readonly type: K;
  /** Its options (may hold lazy values and local paths). */
  readonly options: O;
  /** Platforms it runs for; all when absent. */
  readonly only?: readonly string[];
  /** Platforms it is skipped for. */
  readonly except?: readonly string[];
  /** Where the user wrote it. */
  readonly site: SourceSite;
}

/** What `post: [...]` accepts: post-processors and nested arrays of them (a chain runs in order). */
export type PostInput = PostProcessorSpec | readonly PostInput[] | false | null | undefined;

/** Makes a post-processor spec, taking `only`/`except` out of the options. */
export function makePost<K extends string, O extends CommonPostOptions>(type: K, options: O, site: SourceSite): PostProcessorSpec<K, Omit<O, "only" | "except">> {
  const { only, except, ...rest } = options;
  return Object.freeze({ [IMGC]: "post" as const, type, options: rest, ...(only ? { only } : {}), ...(except ? { except } : {}), site });
}

/** True when `x` is a post-processor spec (from any copy of imgc). */
export function isPostProcessor(x: unknown): x is PostProcessorSpec {
  return isKind(x, "post");
}

/** Flattens nested post-processor lists, dropping falsy entries. */
export function flattenPost(input: readonly PostInput[]): PostProcessorSpec[] {
  const out: PostProcessorSpec[] = [];
  const walk = (item: PostInput): void => {
    if (item === false || item === null || item === undefined) return;
    if (Array.isArray(item)) (item as readonly PostInput[]).forEach(walk);
    else out.push(item as PostProcessorSpec);
  };
  input.forEach(walk);
  return out;
}
