/**
 * Evaluates the lazy values (`{ "$ref": Expr }`) of a ready node: artifact references from this
 * run's results or the state, build facts (one timestamp per apply, a uuid per node, the
 * machine's host/port once known), pure functions and templates, secrets and sensitive
 * variables. Secret taint follows Pulumi's rule: a value with any secret part is secret as a
 * whole, and every secret value is registered with the redactor before anyone can print it.
 * `$path` markers are left as they are.
 */
import { randomUUID } from "node:crypto";
import type { GraphNode } from "../compiler/ir.js";
import type { BuildFact, Expr, Json } from "../lang/values.js";
import type { Redactor } from "./redact.js";
import type { ArtifactRecord, BuildFacts } from "./types.js";

/** Facts fixed for the whole apply: one clock read, one run id. */
export interface RunFacts {
  /** RFC 3339 UTC, seconds precision (Packer's `timestamp()`). */
  readonly timestamp: string;
  /** Unix seconds of the same instant. */
  readonly unixTime: number;
  /** The apply's id. */
  readonly runId: string;
}

/** Reads the clock once for an apply. */
export function makeRunFacts(runId: string, now = new Date()): RunFacts {
  const seconds = Math.floor(now.getTime() / 1000);
  return { timestamp: new Date(seconds * 1000).toISOString().replace(".000Z", "Z"), unixTime: seconds, runId };
}

/** Where secret and sensitive variable values come from. */
export interface SecretSource {
  /** In-memory values from the compiler (`--var name=…` for a secret, sensitive variables). */
  readonly values?: Readonly<Record<string, Json>>;
  /** The environment to read `IMGC_SECRET_<name>` from. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/** What resolving a node's values needs. */
export interface ResolveContext {
  readonly node: GraphNode;
  readonly run: RunFacts;
  /** The node's uuid (`uuid()`), made once per node. */
  readonly uuid: string;
  /** Artifacts by node id: this run's results first, then the state. */
  readonly artifact: (nodeId: string) => ArtifactRecord | undefined;
  /** The machine's facts, filled by the driver's steps as they learn them. */
  readonly facts: BuildFacts;
  readonly secrets: SecretSource;
  readonly redactor: Redactor;
}

/** Thrown when a value cannot be resolved; says which and why. */
export class ResolveError extends Error {
  readonly code = "RESOLVE";
  constructor(message: string) {
    super(message);
    this.name = "ResolveError";
  }
}

interface Value {
  readonly value: Json;
  readonly secret: boolean;
}

/** A fresh per-node uuid. */
export function nodeUuid(): string {
  return randomUUID();
}

/** Resolves every `$ref` in `json`; registers secret results with the redactor. */
export function resolveJson(json: Json | undefined, ctx: ResolveContext, where = "options"): Json {
  if (json === undefined) return null;
  return walk(json, ctx, where);
}

function walk(json: Json, ctx: ResolveContext, where: string): Json {
  if (Array.isArray(json)) return json.map((item, i) => walk(item as Json, ctx, `${where}[${i}]`));
  if (json && typeof json === "object") {
    const obj = json as Record<string, Json>;
    if ("$ref" in obj) {
      const v = evaluate(obj.$ref as unknown as Expr, ctx, where);
      if (v.secret) registerSecret(v.value, ctx.redactor);
      return v.value;
    }
    if ("$path" in obj) return obj;
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = walk(v, ctx, `${where}.${k}`);
    return out;
  }
  return json;
}

function registerSecret(value: Json, redactor: Redactor): void {
  if (typeof value === "string") redactor.add(value);
  else if (typeof value === "number" || typeof value === "boolean") redactor.add(String(value));
  else if (Array.isArray(value)) value.forEach((v) => registerSecret(v as Json, redactor));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => registerSecret(v, redactor));
}

function isExpr(x: unknown): x is Expr {
  return typeof x === "object" && x !== null && !Array.isArray(x) && typeof (x as { kind?: unknown }).kind === "string" && !("$path" in x);
}

/** Evaluates one expression. */
export function evaluate(expr: Expr, ctx: ResolveContext, where: string): Value {
  switch (expr.kind) {
    case "secret":
    case "var": {
      const fromMemory = ctx.secrets.values?.[expr.name];
      if (fromMemory !== undefined) return { value: fromMemory, secret: true };
      const env = ctx.secrets.env ?? process.env;
      const envName = expr.kind === "secret" ? `IMGC_SECRET_${expr.name}` : `IMGC_VAR_${expr.name}`;
      const fromEnv = env[envName];
      if (fromEnv !== undefined) return { value: fromEnv, secret: true };
      throw new ResolveError(
        `${ctx.node.id}: ${expr.kind === "secret" ? "secret" : "sensitive variable"} "${expr.name}" used in ${where} has no value; set ${envName} or pass --var ${expr.name}=…`,
      );
    }
    case "env": {
      // The compiler folds env(); one left here is read the same way, at apply time.
      const value = process.env[expr.name] ?? expr.default;
      if (value === undefined) throw new ResolveError(`${ctx.node.id}: environment variable ${expr.name} used in ${where} is not set`);
      return { value, secret: false };
    }
    case "build":
      return { value: buildFact(expr.field, ctx, where), secret: false };
    case "artifact":
      return { value: artifactField(expr, ctx, where), secret: false };
    case "template": {
      let secret = false;
      let text = "";
      for (const part of expr.parts) {
        if (isExpr(part)) {
          const v = evaluate(part, ctx, where);
          secret ||= v.secret;
          text += stringify(v.value, where, ctx);
        } else text += String(part);
      }
      return { value: text, secret };
    }
    case "fn": {
      let secret = false;
      const args = expr.args.map((arg) => {
        if (isExpr(arg)) {
          const v = evaluate(arg, ctx, where);
          secret ||= v.secret;
          return v.value;
        }
        return resolveJson(arg as Json, ctx, where);
      });
      return { value: applyFn(expr.name, args, ctx, where), secret };
    }
    default:
      throw new ResolveError(`${ctx.node.id}: unknown value kind ${JSON.stringify((expr as { kind: unknown }).kind)} in ${where} (built by a newer imgc?)`);
  }
}

function stringify(value: Json, where: string, ctx: ResolveContext): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw new ResolveError(`${ctx.node.id}: a template in ${where} interpolates a ${Array.isArray(value) ? "list" : typeof value}; only strings, numbers and booleans fit`);
}

function buildFact(field: BuildFact, ctx: ResolveContext, where: string): Json {
  switch (field) {
    case "timestamp":
      return ctx.run.timestamp;
    case "unixTime":
      return ctx.run.unixTime;
    case "runId":
      return ctx.run.runId;
    case "uuid":
      return ctx.uuid;
    case "buildName":
      return ctx.node.id;
    case "platformType":
      return ctx.node.type;
    default: {
      const value = ctx.facts[field as keyof BuildFacts];
      if (value === undefined) {
        throw new ResolveError(`${ctx.node.id}: build.${field} used in ${where} is not known yet (the ${ctx.node.type} platform has not provided it at this point)`);
      }
      return value;
    }
  }
}

function artifactField(expr: Extract<Expr, { kind: "artifact" }>, ctx: ResolveContext, where: string): Json {
  const nodeId = `${expr.image}.${expr.platform}`;
  const artifact = ctx.artifact(nodeId);
  if (!artifact) throw new ResolveError(`${ctx.node.id}: ${where} refers to the artifact of ${nodeId}, which is neither built in this run nor recorded in the state`);
  let value: unknown = artifact;
  for (const key of expr.field.split(".")) {
    if (value === null || typeof value !== "object" || !(key in (value as object))) {
      throw new ResolveError(`${ctx.node.id}: ${where} refers to ${nodeId}'s artifact field "${expr.field}", which its artifact (${artifact.id}) does not have`);
    }
    value = (value as Record<string, unknown>)[key];
  }
  return value as Json;
}

function applyFn(name: string, args: Json[], ctx: ResolveContext, where: string): Json {
  const str = (i: number): string => {
    const v = args[i];
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    throw new ResolveError(`${ctx.node.id}: ${name}() in ${where} needs a string as argument ${i + 1}`);
  };
  switch (name) {
    case "lower":
      return str(0).toLowerCase();
    case "upper":
      return str(0).toUpperCase();
    case "trim":
      return str(0).trim();
    case "string":
      return str(0);
    case "replace":
      return str(0).split(str(1)).join(str(2));
    case "split":
      return str(0).split(str(1));
    case "join": {
      const list = args[0];
      if (!Array.isArray(list)) throw new ResolveError(`${ctx.node.id}: join() in ${where} needs a list`);
      return list.map((v) => String(v)).join(str(1));
    }
    default:
      throw new ResolveError(`${ctx.node.id}: unknown function ${name}() in ${where}`);
  }
}
