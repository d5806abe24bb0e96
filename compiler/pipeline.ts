/**
 * The compiler's passes in order, each with explicit inputs and outputs:
 * load → collect → variables → nodes (fold + schema) → order → hash → select.
 */
import { existsSync, statSync } from "node:fs";
import { dirname, resolve as resolvePath } from "node:path";
import picomatch from "picomatch";
import { declaredSecrets, declaredVariables } from "../lang/variables.js";
import type { Json } from "../lang/values.js";
import { collectImages } from "./collect.js";
import type { CompileOptions, CompileResult } from "./compile.js";
import { ImgcError, throwIfAny } from "./diagnostics.js";
import type { FoldContext } from "./fold.js";
import { buildNodes, topoSort } from "./graph.js";
import { hashNodes } from "./hash.js";
import { DigestCache } from "./digest-cache.js";
import { IR_VERSION, type BuildGraph, type GraphNode } from "./ir.js";
import { evaluationError, loadModule } from "./load.js";
import { readVarFiles, resolveVariables } from "./variables.js";

/** Runs every pass; see `compileProject`. */
export async function runPipeline(options: CompileOptions): Promise<CompileResult> {
  // IMGC_TIMING=1 prints the time of each pass to stderr (for bench/compile profiling).
  const timing = process.env.IMGC_TIMING ? { t: performance.now() } : undefined;
  const lap = (what: string): void => {
    if (!timing) return;
    const now = performance.now();
    process.stderr.write(`imgc timing: ${what} ${(now - timing.t).toFixed(0)} ms\n`);
    timing.t = now;
  };
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const file = resolvePath(cwd, options.file ?? "images.ts");
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw new ImgcError({
      code: "IMGC_FILE_NOT_FOUND",
      message: `the definitions file ${options.file ?? "images.ts"} does not exist`,
      hint: existsSync(dirname(file)) ? "pass the file to compile (imgc plan path/to/images.ts), or create one with imgc init" : `the directory ${dirname(file)} does not exist`,
    });
  }
  const root = dirname(file);

  // 1. load: declarations register themselves while the module evaluates.
  declaredVariables().clear();
  declaredSecrets().clear();
  let namespace: Record<string, unknown>;
  try {
    namespace = await loadModule(file);
  } catch (error) {
    throw evaluationError(error, file);
  }
  lap("load");
  const declared = new Map(declaredVariables());
  const secrets = new Map(declaredSecrets());

  // 2. collect images.
  const collected = collectImages(namespace, file);

  // 3. variables (every problem at once, together with duplicate names).
  const varFiles = await readVarFiles(options.varFiles ?? [], cwd);
  const vars = resolveVariables({ declared, secrets, cli: options.vars ?? {}, varFile: varFiles.values, env });
  throwIfAny([...collected.errors, ...varFiles.errors, ...vars.errors]);
  lap("collect + variables");

  // 4. nodes: fold, check platform options, convert to IR, edges.
  const remembered = new DigestCache(root);
  const fold: FoldContext = { vars: vars.values, sensitive: vars.sensitive, env, root, digests: new Map(), remembered, errors: [] };
  const drafts = buildNodes(collected.images, fold, file);
  remembered.save();
  throwIfAny(fold.errors);
  lap("nodes (fold, schemas, paths)");

  // 5. order, cycles.
  const orderErrors: ImgcError[] = [];
  const ordered = topoSort(drafts, orderErrors);
  throwIfAny(orderErrors);
  lap("order");

  // 6. keys.
  const keyedSecrets = new Set([...secrets.values()].filter((s) => s.options.affectsImage).map((s) => s.name));
  const hashErrors: ImgcError[] = [];
  const sensitiveVarValues = new Map([...vars.sensitive].filter((n) => vars.values.has(n)).map((n) => [n, vars.values.get(n)!] as const));
  let nodes = hashNodes(ordered, {
    keyed: { secrets: keyedSecrets, vars: vars.sensitive },
    values: { secrets: vars.secretValues, vars: sensitiveVarValues },
    root,
    errors: hashErrors,
  });
  throwIfAny(hashErrors);
  lap("keys");

  // 7. --only / --except.
  nodes = selectNodes(nodes, options.only ?? [], options.except ?? []);

  const variables: Record<string, Json> = {};
  for (const [name] of declared) if (vars.values.has(name)) variables[name] = vars.sensitive.has(name) ? "<sensitive>" : vars.values.get(name)!;

  const graph: BuildGraph = {
    irVersion: IR_VERSION,
    project: { file, root },
    variables,
    secrets: [...secrets.keys()].sort(),
    keyedSecrets: [...keyedSecrets].sort(),
    nodes,
  };
  const warnings: string[] = [];
  return {
    graph,
    sensitiveValues: { vars: Object.fromEntries(sensitiveVarValues), secrets: Object.fromEntries(vars.secretValues) },
    warnings,
  };
}

/**
 * Applies `--only` and `--except`. A pattern matches a node id (`web.docker`, globs like
 * `web.*` or `*.docker`) or an image name (all its nodes). `--only` keeps the matches and
 * everything they depend on (they cannot build without it); `--except` drops the matches and
 * everything that depends on them.
 */
export function selectNodes(nodes: GraphNode[], only: readonly string[], except: readonly string[]): GraphNode[] {
  if (!only.length && !except.length) return nodes;
  const matcher = (patterns: readonly string[]) => {
    const ms = patterns.map((p) => picomatch(p, { dot: true }));
    return (n: GraphNode) => patterns.includes(n.image) || ms.some((m) => m(n.id));
  };
  const byId = new Map(nodes.map((n) => [n.id, n]));
  let keep = new Set(nodes.map((n) => n.id));
  if (only.length) {
    const isOnly = matcher(only);
    const picked = new Set<string>();
    const add = (id: string): void => {
      if (picked.has(id) || !byId.has(id)) return;
      picked.add(id);
      byId.get(id)!.deps.forEach(add);
    };
    nodes.filter(isOnly).forEach((n) => add(n.id));
    if (picked.size === 0) throw new ImgcError({ code: "IMGC_SELECT", message: `--only ${only.join(",")} matches no node`, hint: `node ids: ${nodes.map((n) => n.id).slice(0, 12).join(", ")}${nodes.length > 12 ? ", …" : ""}` });
    keep = picked;
  }
  if (except.length) {
    const isExcept = matcher(except);
    const dropped = new Set(nodes.filter(isExcept).map((n) => n.id));
    // nodes are in topological order: a node depending on a dropped one is dropped too.
    for (const n of nodes) if (n.deps.some((d) => dropped.has(d))) dropped.add(n.id);
    for (const d of dropped) keep.delete(d);
  }
  return nodes.filter((n) => keep.has(n.id));
}
