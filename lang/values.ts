/**
 * Lazy values: a closed, JSON-serialisable algebra. A `Ref<T>` stands for a value of type `T`
 * that is not known where the user writes it: a variable (known at compile time), a secret, an
 * upstream image's artifact, a fact of the running build, or a template or pure function over
 * those. Refs are never closures and never strings with hidden tokens, so the compiler can put
 * them in the IR, hash them and replay them.
 */
import { IMGC, isKind } from "./brand.js";
import { captureSite, type SourceSite } from "./site.js";

/** Facts of the running build that templates may use. */
export type BuildFact =
  /** One UTC timestamp for the whole apply (RFC 3339), like Packer's `timestamp()`. */
  | "timestamp"
  /** The Unix time of the apply, in seconds (Packer's `{{timestamp}}` in JSON templates). */
  | "unixTime"
  /** A fresh UUID per build node. */
  | "uuid"
  /** The id of this apply run. */
  | "runId"
  /** The node's name, e.g. `web.docker`. */
  | "buildName"
  /** The platform type, e.g. `docker`. */
  | "platformType"
  /** Address the communicator connects to. */
  | "host"
  /** Port the communicator connects to. */
  | "port"
  /** User the communicator logs in as. */
  | "user"
  /** Instance, container or VM id, where the platform has one. */
  | "instanceId"
  /** Address of the platform's HTTP server as the guest sees it (QEMU's `{{ .HTTPIP }}`). */
  | "httpIp"
  /** Port of the platform's HTTP server (QEMU's `{{ .HTTPPort }}`). */
  | "httpPort";

/** The pure functions a template may apply. */
export type FnName = "lower" | "upper" | "replace" | "join" | "string" | "trim" | "split";

/** The serialisable form of a lazy value. */
export type Expr =
  | { readonly kind: "var"; readonly name: string }
  | { readonly kind: "secret"; readonly name: string }
  | { readonly kind: "env"; readonly name: string; readonly default?: string }
  | { readonly kind: "artifact"; readonly image: string; readonly platform: string; readonly field: string }
  | { readonly kind: "build"; readonly field: BuildFact }
  | { readonly kind: "template"; readonly parts: readonly (string | number | boolean | Expr)[] }
  | { readonly kind: "fn"; readonly name: FnName; readonly args: readonly (Json | Expr)[] };

/** JSON data. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/**
 * A lazy value of type `T`. Use it wherever an option accepts `Input<T>`. Turn a `Ref<number>`
 * into a string with `` t`${n}` `` or `str(n)`.
 */
export interface Ref<T> {
  readonly [IMGC]: "value";
  /** The serialisable expression this ref stands for. */
  readonly expr: Expr;
  /** Where it was written. */
  readonly site: SourceSite;
  /** Phantom: the type of the value. Never set at run time. */
  readonly __type?: T;
}

/** A ref to a variable: known at compile time, so it may decide the graph's shape. */
export interface VarRef<T> extends Ref<T> {
  readonly expr: { readonly kind: "var"; readonly name: string };
}

/** A value, or a lazy value of the same type. */
export type Input<T> = T | Ref<T>;

/**
 * A value known at compile time: a literal or a variable. Fields that decide the graph's shape
 * (regions, platform kinds, counts) take only these, so an artifact id or a secret cannot reach
 * them.
 */
export type CompileTime<T> = T | VarRef<T>;

const refProto = {
  toString(): never {
    throw new TypeError(
      "an imgc value (variable, secret or artifact reference) was turned into a string; " +
        "write t`...${value}...` to interpolate it instead of a plain template literal or +",
    );
  },
  toJSON(): never {
    throw new TypeError(
      "an imgc value cannot be JSON-stringified directly; the compiler serialises it into the build graph",
    );
  },
  [Symbol.toPrimitive](): never {
    return refProto.toString();
  },
};

/** Makes a ref; `site` defaults to the caller's position in the user's code. */
export function makeRef<T>(expr: Expr, site: SourceSite = captureSite()): Ref<T> {
  const ref = Object.create(refProto) as { -readonly [K in keyof Ref<T>]: Ref<T>[K] };
  ref[IMGC] = "value";
  ref.expr = expr;
  ref.site = site;
  return Object.freeze(ref) as Ref<T>;
}

/** True when `x` is a lazy imgc value (from any copy of imgc). */
export function isRef(x: unknown): x is Ref<unknown> {
  return isKind(x, "value");
}

/** The expression of a ref, or the literal itself. */
export function exprOf(x: Input<unknown>): Json | Expr {
  return isRef(x) ? x.expr : (x as Json);
}
