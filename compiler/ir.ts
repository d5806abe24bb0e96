/**
 * The build graph IR: the contract between the compiler and the runtime. It is plain JSON
 * (printable with `imgc graph --format json`, diffable, replayable), versioned by `irVersion`.
 *
 * Inside `config`, provisioner and post-processor `options`, two markers replace live objects:
 * - `{ "$ref": Expr }` — a lazy value the runtime resolves just before the node runs (secret,
 *   artifact reference, build fact, or a template/function over them). Variables and `env()`
 *   are folded to literals by the compiler, except variables declared `sensitive`: they stay as
 *   `{ "$ref": { "kind": "var", … } }` and their values travel beside the IR, in memory only.
 * - `{ "$path": "<absolute path>", "rel": "<path relative to the project root>", "digest"?: "sha256:…", "type"?: "file" | "dir" }`
 *   — a local path; `digest` is present for inputs that exist (files: content; dirs: sorted tree
 *   digest of names, modes and contents). Cache keys use `rel` and `digest`, never `$path`.
 */
import type { Expr, Json } from "../lang/values.js";
import type { SourceSite } from "../lang/site.js";

/** The IR version this compiler emits and this runtime reads. */
export const IR_VERSION = 1 as const;

/** A lazy value in the IR. */
export interface IrRef {
  readonly $ref: Expr;
}

/** A local path in the IR. */
export interface IrPath {
  readonly $path: string;
  readonly rel: string;
  readonly digest?: string;
  readonly type?: "file" | "dir";
}

/** Where a node's machine starts from. */
export type IrSource =
  /** From the platform's own base option (a docker image, an AMI, an ISO…). */
  | { readonly kind: "base" }
  /** From the artifact of an upstream node (`from:`). */
  | { readonly kind: "image"; readonly node: string };

/** One provisioner or post-processor in the IR. */
export interface IrStep {
  /** Its type, e.g. `shell`, `file`, `manifest`. */
  readonly type: string;
  /** Options, with `$ref` and `$path` markers. */
  readonly options: Json;
  /** Where the user wrote it (mapped to the original source). Not hashed. */
  readonly site: SourceSite;
  /**
   * Post-processors only: this step's own cache key, `sha256(node key, step)`, so editing one
   * post-processor re-runs only it (post-processors are not part of the node key).
   */
  readonly key?: string;
}

/** A build node: one image on one platform. */
export interface GraphNode {
  /** `<image>.<platform name>`, e.g. `web.docker`. */
  readonly id: string;
  /** The image name. */
  readonly image: string;
  /** The platform name (node suffix), e.g. `docker`. */
  readonly platform: string;
  /** The platform type, e.g. `docker`, `amazon-ebs`. */
  readonly type: string;
  /** The driver module: its specifier, and the file URL it resolved to from the definitions (not hashed). */
  readonly driver: { readonly module: string; readonly url: string; readonly version: number };
  /** Where the machine starts from. */
  readonly source: IrSource;
  /** The platform options, with `$ref`/`$path` markers. */
  readonly config: Json;
  /** Provisioners that apply to this node (only/except already applied), in order. */
  readonly provision: readonly IrStep[];
  /** The image's error-cleanup provisioner, if any (only/except applied). */
  readonly errorCleanup?: IrStep;
  /** Post-processors that apply to this node, in order. */
  readonly post: readonly IrStep[];
  /** Node ids this node waits for (from `from`, `dependsOn` and artifact references). */
  readonly deps: readonly string[];
  /** The cache key: `sha256:` of the node's own parts and its deps' keys (a Merkle chain). */
  readonly key: string;
  /** Digest per part (`config`, `source`, `provision[0]`, `deps.base.docker`…), so plan can name what changed. */
  readonly keyParts: Readonly<Record<string, string>>;
  /** Not hashed: where it was declared, and its description. */
  readonly meta: { readonly site: SourceSite; readonly description?: string };
}

/** The whole build graph. */
export interface BuildGraph {
  readonly irVersion: typeof IR_VERSION;
  /** The definitions file (absolute) and the project root (its directory, where `.imgc/` lives). */
  readonly project: { readonly file: string; readonly root: string };
  /** Resolved non-sensitive variables by name; sensitive ones appear as `"<sensitive>"`. */
  readonly variables: Readonly<Record<string, Json>>;
  /** Names of declared secrets (values are never in the IR). */
  readonly secrets: readonly string[];
  /** Secrets declared with `affectsImage` (their HMAC is part of the keys of nodes that use them). */
  readonly keyedSecrets: readonly string[];
  /** Nodes in a topological order (dependencies first), ties broken by id. */
  readonly nodes: readonly GraphNode[];
}

/** True for a `$ref` marker. */
export function isIrRef(x: unknown): x is IrRef {
  return typeof x === "object" && x !== null && "$ref" in x;
}

/** True for a `$path` marker. */
export function isIrPath(x: unknown): x is IrPath {
  return typeof x === "object" && x !== null && "$path" in x;
}
