/**
 * Built-in functions over lazy values. Each returns a `Ref`, so nothing is evaluated where the
 * user writes it: the compiler folds what is known at compile time, the runtime the rest.
 */
import { makeRef, exprOf, type Input, type Ref, type BuildFact, type FnName } from "./values.js";

/** One UTC timestamp (RFC 3339) shared by every node of an apply. Not part of cache keys. */
export function timestamp(): Ref<string> {
  return makeRef({ kind: "build", field: "timestamp" });
}

/** A fresh UUID per build node. Not part of cache keys. */
export function uuid(): Ref<string> {
  return makeRef({ kind: "build", field: "uuid" });
}

/**
 * An environment variable of the machine that runs imgc, read at compile time (so its value is
 * part of the cache key). Fails compilation if unset and no default is given.
 */
export function env(name: string, defaultValue?: string): Ref<string> {
  return makeRef(defaultValue === undefined ? { kind: "env", name } : { kind: "env", name, default: defaultValue });
}

/** Facts of the running build, e.g. `build.host`, `build.httpIp`. Resolved just before use. */
export const build: { readonly [F in BuildFact]: Ref<string> } = new Proxy({} as never, {
  get(_target, field: string) {
    return makeRef({ kind: "build", field: field as BuildFact });
  },
});

function fn<T>(name: FnName, args: Input<unknown>[]): Ref<T> {
  return makeRef({ kind: "fn", name, args: args.map(exprOf) });
}

/** Lower-cases a string. */
export function lower(value: Input<string>): Ref<string> {
  return fn("lower", [value]);
}
/** Upper-cases a string. */
export function upper(value: Input<string>): Ref<string> {
  return fn("upper", [value]);
}
/** Trims whitespace at both ends. */
export function trim(value: Input<string>): Ref<string> {
  return fn("trim", [value]);
}
/** Replaces every occurrence of `search` with `replacement`. */
export function replace(value: Input<string>, search: Input<string>, replacement: Input<string>): Ref<string> {
  return fn("replace", [value, search, replacement]);
}
/** Joins a list with a separator. */
export function join(list: Input<readonly string[]>, separator: Input<string>): Ref<string> {
  return fn("join", [list, separator]);
}
/** Splits a string into a list. */
export function split(value: Input<string>, separator: Input<string>): Ref<string[]> {
  return fn("split", [value, separator]);
}
/** Converts a number or boolean to its string form. */
export function str(value: Input<number | boolean | string>): Ref<string> {
  return fn("string", [value]);
}
