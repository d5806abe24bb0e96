/**
 * Checks platform options against the platform's zod schema (from the registry) and turns zod's
 * issues into ImgcErrors a user can act on: unknown keys with "did you mean", mistyped values
 * with the expected type, and runtime references put into compile-time fields.
 */
import type { z } from "zod";
import { isKind } from "../lang/brand.js";
import type { OptionsSchema } from "../lang/platform.js";
import type { SourceSite } from "../lang/site.js";
import type { Ref } from "../lang/values.js";
import { ImgcError, didYouMean } from "./diagnostics.js";

type Issue = z.core.$ZodIssue;

/** Every problem of `value` against `schema`, as ImgcErrors at `site`. */
export function checkOptions(optionsSchema: OptionsSchema | z.ZodType, value: unknown, site: SourceSite, what: string): ImgcError[] {
  // The public type is structural (see OptionsSchema); every platform passes a zod schema.
  const schema = optionsSchema as z.ZodType;
  const result = schema.safeParse(value);
  if (result.success) return [];
  return result.error.issues.map((issue) => toError(issue, schema, value, site, what));
}

function toError(issue: Issue, schema: z.ZodType, root: unknown, site: SourceSite, what: string): ImgcError {
  const path = issue.path.map(String);
  const where = path.join(".");
  const at = valueAt(root, issue.path);
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys;
    const allowed = shapeKeys(schema, issue.path);
    const guesses = keys.map((k) => [k, didYouMean(k, allowed)] as const);
    const guessText = guesses.filter(([, g]) => g).map(([k, g]) => (keys.length === 1 ? `"${g}"` : `"${g}" for "${k}"`));
    return new ImgcError({
      code: "IMGC_UNKNOWN_OPTION",
      message: `${what} has no option ${keys.map((k) => JSON.stringify(where ? `${where}.${k}` : k)).join(", ")}`,
      site,
      hint: guessText.length ? `did you mean ${guessText.join(", ")}?` : allowed.length ? `known options: ${allowed.join(", ")}` : "remove it",
    });
  }
  if (isKind(at, "value")) {
    const ref = at as Ref<unknown>;
    return new ImgcError({
      code: "IMGC_COMPILE_TIME",
      message: `${what} option ${where} is decided at compile time, but it was given a ${describeRef(ref)}, known only at build time`,
      site,
      hint: "use a literal or a variable() here; secrets, artifact references and build facts go only into fields typed Input<…>",
    });
  }
  const expected = expectedOf(issue);
  return new ImgcError({
    code: "IMGC_PLATFORM_OPTION",
    message: where
      ? `${what} option ${where} ${expected ? `must be ${expected}` : `is invalid (${issue.message})`}, got ${describeValue(at)}`
      : `${what} options are invalid: ${issue.message}`,
    site,
    hint: where ? "check the option's type in your editor (hover it), or run imgc validate" : "see the platform's documentation",
  });
}

function describeRef(ref: Ref<unknown>): string {
  const e = ref.expr;
  switch (e.kind) {
    case "secret":
      return `secret ("${e.name}")`;
    case "artifact":
      return `reference to ${e.image}'s ${e.platform} artifact`;
    case "build":
      return `build fact (${e.field})`;
    case "var":
      return `sensitive variable ("${e.name}")`;
    default:
      return `${e.kind} value`;
  }
}

function expectedOf(issue: Issue): string | undefined {
  if (issue.code === "invalid_type") return article(issue.expected);
  if (issue.code === "invalid_value") return issue.values.map((v) => JSON.stringify(v)).join(" or ");
  if (issue.code === "invalid_union") {
    const inner = issue.errors.flat().map(expectedOf).filter((x): x is string => !!x && x !== "an imgc value");
    const uniq = [...new Set(inner)];
    return uniq.length ? uniq.join(" or ") : undefined;
  }
  if (issue.code === "custom") return undefined;
  return undefined;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (isKind(v, "value")) return "an imgc value";
  const text = JSON.stringify(v);
  const kind = Array.isArray(v) ? "list" : v === null ? "null" : typeof v;
  return text !== undefined && text.length <= 40 ? `${kind} ${text}` : kind;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const k of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

type Def = { type: string; shape?: Record<string, unknown>; innerType?: unknown; options?: unknown[]; in?: unknown; element?: unknown; valueType?: unknown };

function defOf(schema: unknown): Def | undefined {
  return (schema as { _zod?: { def?: Def } })?._zod?.def;
}

/** The object keys a schema allows at `path` (through optional, union, array, record…). */
export function shapeKeys(schema: unknown, path: readonly PropertyKey[]): string[] {
  const out = new Set<string>();
  const walk = (s: unknown, i: number): void => {
    const def = defOf(s);
    if (!def) return;
    switch (def.type) {
      case "optional":
      case "nullable":
      case "default":
      case "readonly":
      case "nonoptional":
      case "catch":
        return walk(def.innerType, i);
      case "pipe":
        return walk(def.in, i);
      case "union":
        return def.options?.forEach((o) => walk(o, i));
      case "array":
        return i < path.length ? walk(def.element, i + 1) : undefined;
      case "record":
        return i < path.length ? walk(def.valueType, i + 1) : undefined;
      case "object":
        if (i === path.length) Object.keys(def.shape ?? {}).forEach((k) => out.add(k));
        else if (def.shape && String(path[i]) in def.shape) walk(def.shape[String(path[i])], i + 1);
        return;
      default:
        return;
    }
  };
  walk(schema, 0);
  return [...out];
}
