/**
 * Variable resolution. Precedence, highest first:
 *
 *   1. `--var name=value` on the command line,
 *   2. `--var-file FILE` (JSON, or a .ts/.js module whose default export is an object; later files win),
 *   3. the `IMGC_VAR_<name>` environment variable,
 *   4. the variable's `default`.
 *
 * Strings from the command line and the environment are parsed to the declared type; values from
 * var files must already have it. Every `validate` function runs. All missing and invalid
 * variables are reported at once. `--var` may also carry a secret's value (`--var token=…`).
 */
import { extname, resolve as resolvePath } from "node:path";
import { readFileSync, existsSync } from "node:fs";
import type { VariableDecl, SecretDecl, VariableType } from "../lang/variables.js";
import type { Json } from "../lang/values.js";
import { formatSite } from "../lang/site.js";
import { ImgcError, didYouMean } from "./diagnostics.js";
import { loadModule, mapSite } from "./load.js";

/** Where a variable's value came from (shown by validate/plan). */
export type VariableSource = "cli" | "var-file" | "env" | "default";

/** Resolved variables. */
export interface ResolvedVariables {
  /** Every declared variable's value (sensitive ones included; keep them out of outputs). */
  readonly values: Map<string, Json>;
  /** Names of variables declared `sensitive`. */
  readonly sensitive: Set<string>;
  /** Where each value came from. */
  readonly sources: Map<string, VariableSource>;
  /** Secret values given at compile time (`--var` or `IMGC_SECRET_<name>`). */
  readonly secretValues: Map<string, string>;
  /** Problems, all of them. */
  readonly errors: ImgcError[];
}

/** Reads `--var-file`s into one object (later files win). */
export async function readVarFiles(files: readonly string[], cwd: string): Promise<{ values: Map<string, { value: unknown; file: string }>; errors: ImgcError[] }> {
  const values = new Map<string, { value: unknown; file: string }>();
  const errors: ImgcError[] = [];
  for (const f of files) {
    const file = resolvePath(cwd, f);
    if (!existsSync(file)) {
      errors.push(new ImgcError({ code: "IMGC_VAR_FILE", message: `the variable file ${f} does not exist`, hint: "check the --var-file path (relative to the working directory)" }));
      continue;
    }
    let data: unknown;
    try {
      if (extname(file) === ".json") data = JSON.parse(readFileSync(file, "utf8"));
      else {
        const ns = await loadModule(file, { fresh: false });
        data = "default" in ns ? ns.default : ns;
      }
    } catch (error) {
      if (error instanceof ImgcError) {
        errors.push(error);
        continue;
      }
      errors.push(new ImgcError({ code: "IMGC_VAR_FILE", message: `the variable file ${f} cannot be read: ${(error as Error).message}`, site: { file, line: 1, column: 1 }, hint: "a var file is JSON, or a .ts/.js module whose default export is an object" }));
      continue;
    }
    if (typeof data !== "object" || data === null || Array.isArray(data)) {
      errors.push(new ImgcError({ code: "IMGC_VAR_FILE", message: `the variable file ${f} does not hold an object of variable values`, site: { file, line: 1, column: 1 }, hint: 'write e.g. { "version": "1.2.3" }' }));
      continue;
    }
    for (const [k, v] of Object.entries(data)) values.set(k, { value: v, file });
  }
  return { values, errors };
}

/** Parses a command-line or environment string to the declared type; returns an error sentence on failure. */
export function parseVariableString(type: VariableType, raw: string): { value: Json } | { error: string } {
  switch (type) {
    case "string":
      return { value: raw };
    case "number": {
      const n = Number(raw.trim());
      return raw.trim() !== "" && Number.isFinite(n) ? { value: n } : { error: `"${raw}" is not a number` };
    }
    case "boolean": {
      const s = raw.trim().toLowerCase();
      if (["true", "1", "yes", "on"].includes(s)) return { value: true };
      if (["false", "0", "no", "off"].includes(s)) return { value: false };
      return { error: `"${raw}" is not a boolean (write true or false)` };
    }
    case "list": {
      const s = raw.trim();
      if (s.startsWith("[")) {
        try {
          const v = JSON.parse(s);
          return checkValue("list", v);
        } catch {
          return { error: `"${raw}" is not a JSON list` };
        }
      }
      return { value: s === "" ? [] : s.split(",").map((x) => x.trim()) };
    }
    case "map": {
      const s = raw.trim();
      if (s.startsWith("{")) {
        try {
          return checkValue("map", JSON.parse(s));
        } catch {
          return { error: `"${raw}" is not a JSON object` };
        }
      }
      const out: Record<string, string> = {};
      for (const pair of s === "" ? [] : s.split(",")) {
        const eq = pair.indexOf("=");
        if (eq <= 0) return { error: `"${raw}" is not a map (write k=v,k2=v2 or a JSON object)` };
        out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
      }
      return { value: out };
    }
  }
}

/** Checks a typed value (from a var file or a default) against the declared type. */
export function checkValue(type: VariableType, v: unknown): { value: Json } | { error: string } {
  const kind = Array.isArray(v) ? "list" : v === null ? "null" : typeof v;
  switch (type) {
    case "string":
    case "number":
    case "boolean":
      return typeof v === type && (type !== "number" || Number.isFinite(v)) ? { value: v as Json } : { error: `expected a ${type}, got ${describe(v, kind)}` };
    case "list":
      return Array.isArray(v) && v.every((x) => typeof x === "string") ? { value: v as Json } : { error: `expected a list of strings, got ${describe(v, kind)}` };
    case "map":
      return kind === "object" && Object.values(v as object).every((x) => typeof x === "string")
        ? { value: v as Json }
        : { error: `expected a map of strings, got ${describe(v, kind)}` };
  }
}

function describe(v: unknown, kind: string): string {
  const text = JSON.stringify(v);
  return text !== undefined && text.length < 40 ? `${kind} ${text}` : kind;
}

/** Resolves every declared variable. */
export function resolveVariables(input: {
  declared: Map<string, VariableDecl[]>;
  secrets: Map<string, SecretDecl>;
  cli: Readonly<Record<string, string>>;
  varFile: Map<string, { value: unknown; file: string }>;
  env: Readonly<Record<string, string | undefined>>;
}): ResolvedVariables {
  const values = new Map<string, Json>();
  const sensitive = new Set<string>();
  const sources = new Map<string, VariableSource>();
  const secretValues = new Map<string, string>();
  const errors: ImgcError[] = [];
  const known = [...input.declared.keys(), ...input.secrets.keys()];

  for (const [name, decls] of input.declared) {
    const decl = decls[0]!;
    const site = mapSite(decl.site);
    if (decls.length > 1) {
      errors.push(new ImgcError({ code: "IMGC_VAR_DUPLICATE", message: `variable "${name}" is declared twice (also at ${formatSite(mapSite(decls[1]!.site))})`, site, hint: "declare each variable once and import it where it is used" }));
      continue;
    }
    const { type, sensitive: isSensitive, validate } = decl.options;
    if (isSensitive) sensitive.add(name);
    const describeSource = (s: VariableSource, file?: string): string =>
      s === "cli" ? `--var ${name}` : s === "env" ? `IMGC_VAR_${name}` : s === "var-file" ? `the var file ${file}` : "its default";
    let value: Json | undefined;
    let source: VariableSource | undefined;
    let file: string | undefined;
    let problem: string | undefined;
    if (name in input.cli) {
      const r = parseVariableString(type, input.cli[name]!);
      source = "cli";
      if ("error" in r) problem = r.error;
      else value = r.value;
    } else if (input.varFile.has(name)) {
      const entry = input.varFile.get(name)!;
      source = "var-file";
      file = entry.file;
      const r = checkValue(type, entry.value);
      if ("error" in r) problem = r.error;
      else value = r.value;
    } else if (input.env[`IMGC_VAR_${name}`] !== undefined) {
      const r = parseVariableString(type, input.env[`IMGC_VAR_${name}`]!);
      source = "env";
      if ("error" in r) problem = r.error;
      else value = r.value;
    } else if (decl.options.default !== undefined) {
      const r = checkValue(type, decl.options.default);
      source = "default";
      if ("error" in r) problem = r.error;
      else value = r.value;
    }
    if (source === undefined) {
      errors.push(
        new ImgcError({
          code: "IMGC_VAR_MISSING",
          message: `variable "${name}" (${type}) has no value${decl.options.description ? `: ${decl.options.description}` : ""}`,
          site,
          hint: `pass --var ${name}=…, put it in a --var-file, or set IMGC_VAR_${name}`,
        }),
      );
      continue;
    }
    if (problem === undefined && validate) {
      try {
        const verdict = validate(value as never);
        if (typeof verdict === "string") problem = verdict;
        else if (verdict !== true && verdict !== undefined) problem = "its validate function rejected it";
      } catch (error) {
        problem = `its validate function threw: ${(error as Error).message}`;
      }
    }
    if (problem !== undefined) {
      const shown = isSensitive ? "" : ` ${JSON.stringify(value ?? (source === "cli" ? input.cli[name] : undefined)) ?? ""}`.trimEnd();
      errors.push(
        new ImgcError({
          code: "IMGC_VAR_INVALID",
          message: `variable "${name}" from ${describeSource(source, file)} is invalid${isSensitive ? "" : shown ? ` (${shown.trim()})` : ""}: ${isSensitive ? redactProblem(problem) : problem}`,
          site,
          hint: `give ${name} a valid ${type}`,
        }),
      );
      continue;
    }
    values.set(name, value!);
    sources.set(name, source);
  }

  for (const [name, decl] of input.secrets) {
    const fromFile = input.varFile.get(name)?.value;
    const v = name in input.cli ? input.cli[name] : typeof fromFile === "string" ? fromFile : input.env[`IMGC_SECRET_${name}`];
    if (v !== undefined) secretValues.set(name, v);
    void decl;
  }

  for (const name of Object.keys(input.cli)) {
    if (!input.declared.has(name) && !input.secrets.has(name)) {
      const guess = didYouMean(name, known);
      errors.push(
        new ImgcError({
          code: "IMGC_VAR_UNKNOWN",
          message: `--var ${name} sets a variable the definitions do not declare`,
          hint: guess ? `did you mean ${guess}?` : known.length ? `declared variables: ${known.join(", ")}` : "declare it with variable(\"" + name + "\", { type: … })",
        }),
      );
    }
  }
  for (const [name, { file }] of input.varFile) {
    if (!input.declared.has(name) && !input.secrets.has(name)) {
      const guess = didYouMean(name, known);
      errors.push(new ImgcError({ code: "IMGC_VAR_UNKNOWN", message: `the var file sets "${name}", which the definitions do not declare`, site: { file, line: 1, column: 1 }, hint: guess ? `did you mean ${guess}?` : "remove it or declare the variable" }));
    }
  }
  return { values, sensitive, sources, secretValues, errors };
}

/** A sensitive variable's problem must not quote its value: validate messages are user text, so keep only the first clause. */
function redactProblem(problem: string): string {
  return problem.includes('"') ? "its validate function rejected it" : problem;
}
