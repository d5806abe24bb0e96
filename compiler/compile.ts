/**
 * `compileProject`: the whole compiler pipeline behind one call.
 */
import type { BuildGraph } from "./ir.js";
import type { Json } from "../lang/values.js";

/** Inputs of `compileProject`. */
export interface CompileOptions {
  /** The definitions file, absolute or relative to `cwd`. @default "images.ts" */
  readonly file?: string;
  /** `--var name=value` pairs, as raw strings (parsed to each variable's declared type). Secrets may be given here too. */
  readonly vars?: Readonly<Record<string, string>>;
  /** `--var-file` paths (JSON, or a .ts/.js module whose default export is an object), later files win. Relative to `cwd`. */
  readonly varFiles?: readonly string[];
  /** The environment read for `IMGC_VAR_<name>`, `IMGC_SECRET_<name>` and `env()`. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Directory `file` and `varFiles` are relative to. @default process.cwd() */
  readonly cwd?: string;
  /**
   * Keep only nodes matching one of these patterns (picomatch globs over node ids, or an image
   * name meaning all its nodes), plus everything they depend on.
   */
  readonly only?: readonly string[];
  /** Drop nodes matching one of these patterns (and nodes that depend on them). */
  readonly except?: readonly string[];
}

/** Values the IR refers to but never contains; kept in memory only, never written anywhere. */
export interface SensitiveValues {
  /** Values of variables declared `sensitive` (the IR keeps `{ "$ref": { kind: "var", name } }` for them). */
  readonly vars: Readonly<Record<string, Json>>;
  /** Secret values found at compile time (`--var name=…` or `IMGC_SECRET_<name>` in `env`); others are read by the runtime. */
  readonly secrets: Readonly<Record<string, string>>;
}

/** What `compileProject` returns. */
export interface CompileResult {
  /** The build graph (JSON-serialisable; what `imgc graph --format json` prints). */
  readonly graph: BuildGraph;
  /** Values of sensitive variables and secrets, in memory only: register them with the redactor. */
  readonly sensitiveValues: SensitiveValues;
  /** Non-fatal findings (e.g. a declared variable nobody uses), already formatted as sentences. */
  readonly warnings: readonly string[];
}

/**
 * Compiles a definitions file into a `BuildGraph`.
 *
 * - Loads `file` with every TypeScript file transformed on its own (import.meta.url, relative
 *   paths and component libraries in node_modules keep their identity).
 * - Resolves variables (`vars` > `varFiles` > `IMGC_VAR_<name>` in `env` > default), checks
 *   their types and `validate` functions, and reports every problem at once.
 * - Builds one node per image × platform, checks platform options against each platform's
 *   schema, folds what is known at compile time, hashes local files, orders nodes
 *   topologically and computes every cache key.
 *
 * Never builds anything and never contacts a platform. The only thing it may write is the
 * per-project salt `.imgc/salt` (created when a secret with `affectsImage` or a sensitive
 * variable is part of a key).
 *
 * @throws ImgcError for every problem in the definitions (`code`, one sentence, `site`, `hint`);
 *   several problems found together are one ImgcError whose `related` lists them all.
 */
export async function compileProject(options: CompileOptions = {}): Promise<CompileResult> {
  const { runPipeline } = await import("./pipeline.js");
  return runPipeline(options);
}
