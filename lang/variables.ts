/**
 * Variables and secrets. A variable is resolved by the compiler (from `--var`, `--var-file`,
 * `IMGC_VAR_<name>`, then its default), so it is known at compile time and may be used in fields
 * that decide the graph's shape. A secret is resolved only by the runtime, never printed and never
 * stored in clear.
 */
import { IMGC } from "./brand.js";
import { captureSite, type SourceSite } from "./site.js";
import { makeRef, type Ref, type VarRef } from "./values.js";

/** The types a variable may have. */
export type VariableType = "string" | "number" | "boolean" | "list" | "map";

/** The TypeScript type of a variable of each `VariableType`. */
export interface VariableTypeMap {
  string: string;
  number: number;
  boolean: boolean;
  /** A list of strings, like Packer's `list(string)`. */
  list: string[];
  /** A map of strings, like Packer's `map(string)`. */
  map: Record<string, string>;
}

/** Options of `variable()`. */
export interface VariableOptions<K extends VariableType> {
  /** The variable's type; values from the command line or the environment are parsed to it. */
  readonly type: K;
  /** Used when no `--var`, `--var-file` or `IMGC_VAR_<name>` gives a value. Without one, the variable is required. */
  readonly default?: VariableTypeMap[K];
  /** Shown by `imgc validate` and in errors about this variable. */
  readonly description?: string;
  /**
   * Checks the value; return `true` (or nothing) when it is fine, or a sentence saying what is
   * wrong. Must be pure: it runs at compile time.
   */
  readonly validate?: (value: VariableTypeMap[K]) => true | string | undefined | void;
  /** The value is redacted (`<sensitive>`) in every output, log, state file and manifest. */
  readonly sensitive?: boolean;
}

/** A declared variable, as the compiler sees it. */
export interface VariableDecl {
  readonly [IMGC]: "variable";
  readonly name: string;
  readonly options: VariableOptions<VariableType>;
  readonly site: SourceSite;
}

/** Options of `secret()`. */
export interface SecretOptions {
  /** What the secret is for, shown when it is missing. */
  readonly description?: string;
  /**
   * By default a secret does not affect cache keys (rotating a token rebuilds nothing). Set this
   * when the value changes the image: its keyed hash (HMAC with a per-project salt) is then part
   * of the key. A plain digest of a secret is never stored.
   */
  readonly affectsImage?: boolean;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Every variable declared while the user's modules load, in declaration order. The compiler
 * reads and clears it; it lives on `globalThis` under a `Symbol.for` key so that two copies of
 * imgc in one process share it.
 */
export function declaredVariables(): Map<string, VariableDecl[]> {
  const key = Symbol.for("imgc.variables");
  const g = globalThis as Record<symbol, Map<string, VariableDecl[]>>;
  return (g[key] ??= new Map());
}

/** Declares a typed variable. `variable("count", { type: "number" })` is a `VarRef<number>`. */
export function variable<K extends VariableType>(name: string, options: VariableOptions<K>): VarRef<VariableTypeMap[K]> {
  const site = captureSite();
  if (!NAME.test(name)) {
    throw new TypeError(`variable name "${name}" is not valid: use letters, digits and _ (it becomes IMGC_VAR_${name})`);
  }
  const decl: VariableDecl = { [IMGC]: "variable", name, options: options as unknown as VariableOptions<VariableType>, site };
  const all = declaredVariables();
  all.set(name, [...(all.get(name) ?? []), decl]);
  return makeRef({ kind: "var", name }, site) as VarRef<VariableTypeMap[K]>;
}

/** Declares a secret: resolved at apply time from `IMGC_SECRET_<name>` (or `--var`), never stored in clear. */
export function secret(name: string, options: SecretOptions = {}): Ref<string> {
  if (!NAME.test(name)) {
    throw new TypeError(`secret name "${name}" is not valid: use letters, digits and _ (it is read from IMGC_SECRET_${name})`);
  }
  const site = captureSite();
  const secrets = declaredSecrets();
  secrets.set(name, { name, options, site });
  return makeRef({ kind: "secret", name }, site);
}

/** A declared secret, as the compiler sees it. */
export interface SecretDecl {
  readonly name: string;
  readonly options: SecretOptions;
  readonly site: SourceSite;
}

/** Every secret declared while the user's modules load (shared like `declaredVariables`). */
export function declaredSecrets(): Map<string, SecretDecl> {
  const key = Symbol.for("imgc.secrets");
  const g = globalThis as Record<symbol, Map<string, SecretDecl>>;
  return (g[key] ??= new Map());
}
