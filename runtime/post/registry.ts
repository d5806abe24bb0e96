/**
 * The post-processor registry: type → implementation. The built-ins (manifest, checksum,
 * compress) load lazily; platforms add theirs (docker-tag, docker-push, export formats…) with
 * `registerPostProcessor`, usually from a module listed in `BUILTIN` below or from a plugin.
 */
import type { Json } from "../../lang/values.js";
import type { ArtifactRecord, BuildLog } from "../types.js";

/** What a post-processor gets besides its options and input artifact. */
export interface PostContext {
  /** The node (e.g. `web.docker`), Packer's build name. */
  readonly node: string;
  /** The node's platform type (Packer's builder_type). */
  readonly platformType: string;
  /** The project root. */
  readonly projectRoot: string;
  /** The apply's id (the manifest's run uuid). */
  readonly runId: string;
  /** Unix seconds the node's build ended (the manifest's build_time). */
  readonly buildTime: number;
  /** Logging for this node. */
  readonly log: BuildLog;
  /** Registers a value that must never be shown. */
  readonly redact: (value: string) => void;
  /** Replaces registered secrets in a text (manifests must never hold one). */
  readonly redactText: (text: string) => string;
}

/** What a post-processor returns. */
export interface PostResult {
  /** The artifact it produced; absent when it only records something (manifest). */
  readonly artifact?: ArtifactRecord;
  /**
   * Whether its input must be kept whatever `keepInputArtifact` says (Packer's forceOverride):
   * checksum and manifest never delete their input.
   */
  readonly keepInput?: boolean;
}

/**
 * A post-processor implementation. `options` arrive resolved (no `$ref`); local paths are
 * `IrPath` objects (use `$path`).
 */
export interface PostProcessorImpl<O = any> {
  readonly type: string;
  run(input: ArtifactRecord, options: O, ctx: PostContext, signal: AbortSignal): Promise<PostResult>;
  /** Deletes an artifact this post-processor made, for `keepInputArtifact: false` on the next one. */
  destroy?(artifact: ArtifactRecord, signal: AbortSignal): Promise<void>;
}

/** Built-in post-processor types and the module (relative to this folder) of each. */
const BUILTIN: Readonly<Record<string, string>> = {
  manifest: "./manifest.js",
  checksum: "./checksum.js",
  compress: "./compress.js",
  "export-virtualbox": "../export/post/virtualbox.js",
  "export-vmware": "../export/post/vmware.js",
  "export-hyperv": "../export/post/hyperv.js",
  "export-parallels": "../export/post/parallels.js",
  "export-azure": "../export/post/azure.js",
  "export-gce": "../export/post/gce.js",
  "export-vagrant": "../export/post/vagrant.js",
  "docker-tag": "./docker-tag.js",
  "docker-push": "./docker-push.js",
  "docker-save": "./docker-save.js",
  "docker-import": "./docker-import.js",
};

const registered = new Map<string, PostProcessorImpl | (() => Promise<PostProcessorImpl>)>();
const loaded = new Map<string, Promise<PostProcessorImpl>>();

/** Adds (or replaces) a post-processor, or a loader of one (a dynamic import keeps startup fast). */
export function registerPostProcessor(type: string, impl: PostProcessorImpl | (() => Promise<PostProcessorImpl>)): void {
  registered.set(type, impl);
  loaded.delete(type);
}

/** Types known to the registry. */
export function postProcessorTypes(): string[] {
  return [...new Set([...Object.keys(BUILTIN), ...registered.keys()])].sort();
}

function pick(mod: Record<string, unknown>, type: string): PostProcessorImpl {
  const impl = [mod.default, ...Object.values(mod)].find(
    (c): c is PostProcessorImpl => typeof c === "object" && c !== null && typeof (c as PostProcessorImpl).run === "function",
  );
  if (!impl) throw new Error(`the module of the "${type}" post-processor exports no PostProcessorImpl`);
  return impl;
}

/** The implementation of `type`. */
export function loadPostProcessor(type: string): Promise<PostProcessorImpl> {
  let promise = loaded.get(type);
  if (promise) return promise;
  const custom = registered.get(type);
  if (custom) promise = typeof custom === "function" ? custom() : Promise.resolve(custom);
  else if (BUILTIN[type]) promise = (import(BUILTIN[type]!) as Promise<Record<string, unknown>>).then((m) => pick(m, type));
  else return Promise.reject(new Error(`no post-processor implements type "${type}"; known types: ${postProcessorTypes().join(", ")}`));
  loaded.set(type, promise);
  promise.catch(() => loaded.delete(type));
  return promise;
}

export type { Json };
