/**
 * Partial evaluation of options. What is known at compile time becomes a literal (variables,
 * `env()`, templates and functions whose parts are all known); what only the runtime knows stays
 * symbolic as `{ "$ref": Expr }` (secrets, artifact references, build facts, sensitive
 * variables). Local paths become `{ "$path", rel, digest, type }` markers.
 */
import { createHash } from "node:crypto";
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, statSync } from "node:fs";
import { join, relative, resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";
import { IMGC, isKind } from "../lang/brand.js";
import type { LocalPath } from "../lang/path.js";
import type { SourceSite } from "../lang/site.js";
import { makeRef, type Expr, type Json, type Ref } from "../lang/values.js";
import { ImgcError } from "./diagnostics.js";
import { REMEMBER_FROM_BYTES, type DigestCache } from "./digest-cache.js";
import type { IrPath } from "./ir.js";
import { mapSite } from "./load.js";

/** What folding needs to know. */
export interface FoldContext {
  /** Resolved variable values (sensitive included). */
  readonly vars: Map<string, Json>;
  /** Variables whose value must stay out of the IR. */
  readonly sensitive: Set<string>;
  /** Environment for `env()`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The project root, which `rel` of `$path` markers is relative to. */
  readonly root: string;
  /** Digest cache by absolute path, shared across nodes. */
  readonly digests: Map<string, { digest: string; type: "file" | "dir" } | null>;
  /** Digests of large files remembered between compiles (absent: always read the files). */
  readonly remembered?: DigestCache;
  /** Collected problems. */
  readonly errors: ImgcError[];
}

type Folded = { known: true; value: Json } | { known: false; expr: Expr };

/** Folds an expression as far as compile-time knowledge goes. */
export function foldExpr(expr: Expr, ctx: FoldContext, site: SourceSite): Folded {
  switch (expr.kind) {
    case "var":
      if (ctx.sensitive.has(expr.name) || !ctx.vars.has(expr.name)) return { known: false, expr };
      return { known: true, value: ctx.vars.get(expr.name)! };
    case "env": {
      const v = ctx.env[expr.name] ?? expr.default;
      if (v === undefined) {
        ctx.errors.push(
          new ImgcError({
            code: "IMGC_ENV_MISSING",
            message: `env("${expr.name}") is used but the environment variable ${expr.name} is not set`,
            site: mapSite(site),
            hint: `set ${expr.name}, or give env() a default: env("${expr.name}", "…")`,
          }),
        );
        return { known: true, value: "" };
      }
      return { known: true, value: v };
    }
    case "secret":
    case "artifact":
    case "build":
      return { known: false, expr };
    case "template": {
      const parts = expr.parts.map((p) => (typeof p === "object" ? foldExpr(p, ctx, site) : ({ known: true, value: p } as Folded)));
      if (parts.every((p) => p.known)) return { known: true, value: parts.map((p) => textOf((p as { value: Json }).value)).join("") };
      // Merge adjacent known parts into one string.
      const out: (string | number | boolean | Expr)[] = [];
      for (const p of parts) {
        if (p.known) {
          const text = textOf(p.value);
          const last = out[out.length - 1];
          if (typeof last === "string") out[out.length - 1] = last + text;
          else if (text !== "") out.push(text);
        } else out.push(p.expr);
      }
      // `t\`${ref}\`` is the ref itself.
      if (out.length === 1 && typeof out[0] === "object") return { known: false, expr: out[0] };
      return { known: false, expr: { kind: "template", parts: out } };
    }
    case "fn": {
      const args = expr.args.map((a) => (isExpr(a) ? foldExpr(a, ctx, site) : ({ known: true, value: a } as Folded)));
      if (args.every((a) => a.known)) {
        const values = args.map((a) => (a as { value: Json }).value);
        return { known: true, value: applyFn(expr.name, values) };
      }
      return { known: false, expr: { kind: "fn", name: expr.name, args: args.map((a) => (a.known ? a.value : a.expr)) } };
    }
  }
}

function isExpr(x: unknown): x is Expr {
  return typeof x === "object" && x !== null && !Array.isArray(x) && typeof (x as { kind?: unknown }).kind === "string" &&
    ["var", "secret", "env", "artifact", "build", "template", "fn"].includes((x as { kind: string }).kind);
}

function textOf(v: Json): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return v.map((x) => textOf(x as Json)).join(",");
  return JSON.stringify(v);
}

/** Evaluates a pure function on known arguments (the runtime implements the same table). */
export function applyFn(name: string, args: Json[]): Json {
  const s = (i: number): string => textOf(args[i] ?? "");
  switch (name) {
    case "lower":
      return s(0).toLowerCase();
    case "upper":
      return s(0).toUpperCase();
    case "trim":
      return s(0).trim();
    case "replace":
      return s(0).split(s(1)).join(s(2));
    case "join":
      return Array.isArray(args[0]) ? (args[0] as Json[]).map(textOf).join(s(1)) : s(0);
    case "split":
      return s(0).split(s(1));
    case "string":
      return s(0);
    default:
      throw new Error(`unknown function ${name}`);
  }
}

/**
 * A copy of `value` with compile-time refs replaced by their values and runtime refs kept as
 * refs: the shape a platform's zod schema checks (it accepts refs only where the field is
 * `Input<T>`, so a runtime ref in a compile-time field fails there).
 */
export function foldForCheck(value: unknown, ctx: FoldContext, site: SourceSite): unknown {
  if (isKind(value, "value")) {
    const ref = value as Ref<unknown>;
    const f = foldExpr(ref.expr, { ...ctx, errors: [] }, ref.site ?? site);
    return f.known ? f.value : f.expr === ref.expr ? ref : makeRef(f.expr, ref.site);
  }
  if (Array.isArray(value)) return value.map((v) => foldForCheck(v, ctx, site));
  // Other imgc objects (local paths…) keep their brand: schemas recognise them by it.
  if (typeof value === "object" && value !== null && IMGC in value) return value;
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = foldForCheck(v, ctx, site);
    return out;
  }
  return value;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== "object" || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/** Where in the options a value sits, for messages (`options.changes.env.A`). */
type PathRole = "input" | "output";

/**
 * Converts live option values to IR JSON: refs folded or kept as `{ $ref }`, local paths as
 * `$path` markers (inputs hashed by content), `undefined` dropped. Anything else that is not
 * JSON (a function, a class instance) is an error naming the option.
 */
export function toIr(value: unknown, ctx: FoldContext, site: SourceSite, where: string, role: PathRole = "input"): Json | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return fail(ctx, site, where, `is ${value}, which is not a finite number`);
    return Object.is(value, -0) ? 0 : value;
  }
  if (isKind(value, "value")) {
    const ref = value as Ref<unknown>;
    const f = foldExpr(ref.expr, ctx, ref.site ?? site);
    return f.known ? f.value : { $ref: f.expr as unknown as Json };
  }
  if (isKind(value, "path")) return pathMarker(value as LocalPath, ctx, site, where, role) as unknown as Json;
  if (value instanceof URL || (typeof value === "object" && Object.prototype.toString.call(value) === "[object URL]")) {
    const url = value as URL;
    if (url.protocol !== "file:") return url.href;
    return pathMarker({ path: fileURLToPath(url), base: ctx.root } as LocalPath, ctx, site, where, role) as unknown as Json;
  }
  if (Array.isArray(value)) {
    const out: Json[] = [];
    value.forEach((v, i) => {
      const j = toIr(v, ctx, site, `${where}[${i}]`, role);
      out.push(j === undefined ? null : j);
    });
    return out;
  }
  if (isPlainObject(value)) {
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value)) {
      const j = toIr(v, ctx, site, where ? `${where}.${k}` : k, role);
      if (j !== undefined) out[k] = j;
    }
    return out;
  }
  return fail(ctx, site, where, `is a ${typeof value === "function" ? "function" : (value as object).constructor?.name ?? typeof value}, which cannot go into the build graph`);
}

function fail(ctx: FoldContext, site: SourceSite, where: string, what: string): undefined {
  ctx.errors.push(new ImgcError({ code: "IMGC_PLATFORM_OPTION", message: `option ${where} ${what}`, site: mapSite(site), hint: "options hold plain data: strings, numbers, booleans, lists, objects and imgc values" }));
  return undefined;
}

function pathMarker(p: LocalPath, ctx: FoldContext, site: SourceSite, where: string, role: PathRole): IrPath {
  const abs = resolvePath(p.base, p.path);
  const rel = relative(ctx.root, abs) || ".";
  const effectiveRole = p.role ?? role;
  if (effectiveRole === "output") return { $path: abs, rel };
  let entry = ctx.digests.get(abs);
  if (entry === undefined) {
    entry = digestPath(abs, ctx.remembered);
    ctx.digests.set(abs, entry);
  }
  if (entry === null) {
    ctx.errors.push(
      new ImgcError({
        code: "IMGC_PATH",
        message: `${where} names ${p.path}, which does not exist (looked for ${abs})`,
        site: mapSite(site),
        hint: "relative paths resolve against the directory of the file that wrote them; a library can use new URL(\"./file\", import.meta.url)",
      }),
    );
    return { $path: abs, rel };
  }
  return { $path: abs, rel, digest: entry.digest, type: entry.type };
}

/**
 * Content digest of a file (its bytes) or a directory (sorted tree of names, modes and
 * contents); null when absent. Large files' digests come from `remembered` while unchanged.
 */
export function digestPath(abs: string, remembered?: DigestCache): { digest: string; type: "file" | "dir" } | null {
  let st;
  try {
    st = statSync(abs);
  } catch {
    return null;
  }
  if (st.isDirectory()) return { digest: `sha256:${treeDigest(abs, remembered)}`, type: "dir" };
  return { digest: `sha256:${fileDigestRemembered(abs, st.size, remembered)}`, type: "file" };
}

/**
 * A file's sha256 (hex), from `remembered` when the file is large and unchanged since. `size`
 * comes from the caller's stat, so a small file costs no second stat.
 */
function fileDigestRemembered(abs: string, size: number, remembered: DigestCache | undefined): string {
  if (!remembered || size < REMEMBER_FROM_BYTES) return fileDigestHex(abs);
  const st = statSync(abs, { bigint: true });
  const known = remembered.get(abs, st);
  if (known) return known;
  const hex = fileDigestHex(abs);
  // Recorded with the stat taken before reading: a write during the read changes ctime, so
  // the next compile reads the file again rather than trusting a digest of torn content.
  remembered.set(abs, st, hex);
  return hex;
}

const CHUNK = Buffer.allocUnsafe(1 << 20);

/**
 * sha256 of a file's bytes, read 1 MiB at a time: a 64 MiB payload or a multi-GiB disk image
 * costs no more memory than a small file (reading it whole held it all in memory, and failed
 * above 2 GiB).
 */
function fileDigestHex(abs: string): string {
  const h = createHash("sha256");
  const fd = openSync(abs, "r");
  try {
    for (let n; (n = readSync(fd, CHUNK, 0, CHUNK.length, null)) > 0; ) h.update(CHUNK.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest("hex");
}

function treeDigest(dir: string, remembered?: DigestCache): string {
  const h = createHash("sha256");
  for (const name of readdirSync(dir).sort()) {
    const abs = join(dir, name);
    const st = lstatSync(abs);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) h.update(`l ${name} ${readlinkSync(abs)}\n`);
    else if (st.isDirectory()) h.update(`d ${name} ${mode} ${treeDigest(abs, remembered)}\n`);
    else h.update(`f ${name} ${mode} ${fileDigestRemembered(abs, st.size, remembered)}\n`);
  }
  return h.digest("hex");
}
