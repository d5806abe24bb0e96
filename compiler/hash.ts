/**
 * Cache keys (ANCHORS §D): a Merkle chain over canonical JSON.
 *
 *   key = sha256(canonical({ v: "imgc.node.v1", parts: keyParts }))
 *   keyParts = { platform, source, config, provision[i]…, errorCleanup?, deps.<id>… }
 *
 * - Canonical JSON: sorted keys, no `undefined`, `-0` as `0`. Only IR JSON is hashed, never live objects.
 * - Local paths count by `rel` and content `digest`, never by absolute path or mtime.
 * - An artifact reference counts as the upstream node's key (so every key is known before any build).
 * - `timestamp()`, `uuid()` and other build facts count by their symbolic form only.
 * - Secrets count by name; with `affectsImage` (and sensitive variables) by an HMAC of the value
 *   with the per-project salt in `.imgc/salt`. A plain digest of a secret is never computed.
 * - `meta` and step sites are not hashed. Post-processors are not part of the node key: each gets
 *   its own key `sha256(nodeKey, post step)` so editing one re-runs only that post step.
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import type { Expr, Json } from "../lang/values.js";
import { ImgcError } from "./diagnostics.js";
import type { DraftNode } from "./graph.js";
import type { GraphNode, IrStep } from "./ir.js";

/** Canonical JSON text: object keys sorted, `undefined` dropped. */
export function canonicalJson(value: Json): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number") return Object.is(value, -0) ? "0" : JSON.stringify(value);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson((v === undefined ? null : v) as Json)).join(",")}]`;
  const keys = Object.keys(value).filter((k) => (value as Record<string, Json | undefined>)[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, Json>)[k]!)}`).join(",")}}`;
}

/** `sha256:<hex>` of a string. */
export function sha256(text: string): string {
  return `sha256:${createHash("sha256").update(text).digest("hex")}`;
}

/** What hashing needs beyond the nodes. */
export interface HashContext {
  /** Secrets declared with `affectsImage`, and sensitive variables: hashed by HMAC. */
  readonly keyed: { readonly secrets: ReadonlySet<string>; readonly vars: ReadonlySet<string> };
  /** Values of keyed secrets and sensitive variables known at compile time. */
  readonly values: { readonly secrets: ReadonlyMap<string, string>; readonly vars: ReadonlyMap<string, Json> };
  /** The project root (holds `.imgc/salt`). */
  readonly root: string;
  /** Problems found (a keyed secret with no value). */
  readonly errors: ImgcError[];
}

/** Reads (or creates, once) the per-project salt `.imgc/salt`. */
export function projectSalt(root: string): Buffer {
  const dir = join(root, ".imgc");
  const file = join(dir, "salt");
  if (existsSync(file)) return Buffer.from(readFileSync(file, "utf8").trim(), "hex");
  mkdirSync(dir, { recursive: true });
  const salt = randomBytes(32);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${salt.toString("hex")}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  return salt;
}

/** Computes keys in topological order; returns the final IR nodes. */
export function hashNodes(ordered: readonly DraftNode[], ctx: HashContext): GraphNode[] {
  const keys = new Map<string, string>();
  let salt: Buffer | undefined;
  const hmac = (kind: string, name: string, value: string): string => {
    salt ??= projectSalt(ctx.root);
    return `hmac-sha256:${createHmac("sha256", salt).update(`${kind}\0${name}\0${value}`).digest("hex")}`;
  };
  const reported = new Set<string>();

  const hashExpr = (e: Expr): Json => {
    switch (e.kind) {
      case "artifact":
        return { kind: "artifact", node: keys.get(`${e.image}.${e.platform}`) ?? `${e.image}.${e.platform}`, field: e.field };
      case "secret":
        if (!ctx.keyed.secrets.has(e.name)) return { kind: "secret", name: e.name };
        {
          const v = ctx.values.secrets.get(e.name);
          if (v === undefined) {
            if (!reported.has(e.name)) {
              reported.add(e.name);
              ctx.errors.push(
                new ImgcError({
                  code: "IMGC_SECRET_MISSING",
                  message: `secret "${e.name}" is declared with affectsImage, so its value is part of the cache key, but it has no value`,
                  hint: `set IMGC_SECRET_${e.name} (or pass --var ${e.name}=…)`,
                }),
              );
            }
            return { kind: "secret", name: e.name };
          }
          return { kind: "secret", name: e.name, hmac: hmac("secret", e.name, v) };
        }
      case "var":
        if (ctx.keyed.vars.has(e.name)) return { kind: "var", name: e.name, hmac: hmac("var", e.name, canonicalJson(ctx.values.vars.get(e.name) ?? null)) };
        return e as unknown as Json;
      case "template":
        return { kind: "template", parts: e.parts.map((p) => (typeof p === "object" ? hashExpr(p) : p)) };
      case "fn":
        return { kind: "fn", name: e.name, args: e.args.map((a) => (a && typeof a === "object" && !Array.isArray(a) && "kind" in a ? hashExpr(a as Expr) : (a as Json))) };
      default:
        return e as unknown as Json;
    }
  };
  /** The hashed form of IR JSON: paths by rel+digest, refs by hashExpr. */
  const hashable = (v: Json): Json => {
    if (Array.isArray(v)) return v.map((x) => hashable(x as Json));
    if (v && typeof v === "object") {
      if ("$ref" in v) return { $ref: hashExpr(v.$ref as unknown as Expr) };
      if ("$path" in v) return { path: v.rel ?? null, digest: v.digest ?? null, type: v.type ?? null };
      const out: Record<string, Json> = {};
      for (const [k, x] of Object.entries(v)) out[k] = hashable(x);
      return out;
    }
    return v;
  };
  // A step shared by several nodes hashes once, unless it refers to artifacts (keys differ per run order? no: they are absolute) — cache by object.
  const stepDigests = new WeakMap<object, string>();
  const stepDigest = (s: IrStep): string => {
    let d = stepDigests.get(s);
    if (!d) {
      d = sha256(canonicalJson({ type: s.type, options: hashable(s.options) }));
      stepDigests.set(s, d);
    }
    return d;
  };
  const configDigests = new WeakMap<object, string>();

  const out: GraphNode[] = [];
  for (const n of ordered) {
    const parts: Record<string, string> = {};
    parts.platform = sha256(canonicalJson({ type: n.type, driverVersion: n.driver.version }));
    parts.source = sha256(canonicalJson(n.source as unknown as Json));
    if (n.config !== null && typeof n.config === "object") {
      let d = configDigests.get(n.config);
      if (!d) configDigests.set(n.config, (d = sha256(canonicalJson(hashable(n.config)))));
      parts.config = d;
    } else parts.config = sha256(canonicalJson(hashable(n.config)));
    n.provision.forEach((s, i) => (parts[`provision[${i}]`] = stepDigest(s)));
    if (n.errorCleanup) parts.errorCleanup = stepDigest(n.errorCleanup);
    for (const d of [...n.deps].sort()) parts[`deps.${d}`] = keys.get(d) ?? "unknown";
    const key = sha256(canonicalJson({ v: "imgc.node.v1", parts }));
    keys.set(n.id, key);
    const post = n.post.map((s) => ({ ...s, key: sha256(canonicalJson({ v: "imgc.post.v1", node: key, step: stepDigest(s) })) }));
    out.push({
      id: n.id,
      image: n.image,
      platform: n.platform,
      type: n.type,
      driver: n.driver,
      source: n.source,
      config: n.config,
      provision: n.provision,
      ...(n.errorCleanup ? { errorCleanup: n.errorCleanup } : {}),
      post,
      deps: [...n.deps].sort(),
      key,
      keyParts: parts,
      meta: n.meta,
    });
  }
  return out;
}
