/**
 * Plan: compares each node's cache key with the state and says, per node, `+ build` (never
 * built), `= up to date` (same key, and the driver confirms the artifact still exists) or
 * `~ rebuild` with the reasons — which option, provisioner, file or upstream changed — like
 * `terraform plan`.
 */
import { canonicalJson, sha256 } from "../compiler/hash.js";
import type { GraphNode, IrPath } from "../compiler/ir.js";
import type { Json } from "../lang/values.js";
import type { PlanStatus } from "./events.js";
import type { NodeState, StateFile } from "./state/store.js";

/** Plan's decision for one node. */
export interface NodePlan {
  readonly node: string;
  readonly status: PlanStatus;
  /** Human sentences: why it builds or rebuilds. Empty when up to date. */
  readonly reasons: readonly string[];
}

/** Settings of `planNodes`. */
export interface PlanOptions {
  /** Rebuild every selected node. */
  readonly force?: boolean;
  /** Asks the node's driver whether the recorded artifact still exists (true when it cannot tell). */
  readonly exists: (node: GraphNode, record: NodeState) => Promise<boolean>;
  /** Node ids that will not be (re)built whatever plan says (outside `--only`). */
  readonly frozen?: ReadonlySet<string>;
}

/** Every `$path` marker with a digest in `json`: project-relative path → digest. */
export function collectFiles(json: Json | undefined, out: Record<string, string> = {}): Record<string, string> {
  if (Array.isArray(json)) json.forEach((j) => collectFiles(j as Json, out));
  else if (json && typeof json === "object") {
    if ("$path" in json) {
      const p = json as unknown as IrPath;
      if (p.digest) out[p.rel] = p.digest;
    } else Object.values(json).forEach((j) => collectFiles(j, out));
  }
  return out;
}

/** The local files a node uses (config, provisioners, errorCleanup). */
export function nodeFiles(node: GraphNode): Record<string, string> {
  const out: Record<string, string> = {};
  collectFiles(node.config, out);
  for (const p of node.provision) collectFiles(p.options, out);
  if (node.errorCleanup) collectFiles(node.errorCleanup.options, out);
  return out;
}

/**
 * A digest of each top-level platform option, so plan can name the option that changed. A
 * local path counts by its path only: a changed file's content is reported as that file.
 */
export function optionDigests(config: Json | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!config || typeof config !== "object" || Array.isArray(config)) return out;
  for (const [name, value] of Object.entries(config)) out[name] = sha256(canonicalJson(withoutFileDigests(value))).slice(0, 16);
  return out;
}

function withoutFileDigests(json: Json): Json {
  if (Array.isArray(json)) return json.map(withoutFileDigests);
  if (json && typeof json === "object") {
    if ("$path" in json) return { $path: (json as unknown as IrPath).rel };
    return Object.fromEntries(Object.entries(json).map(([k, v]) => [k, withoutFileDigests(v)]));
  }
  return json;
}

/** The options whose digests differ between a recorded build and now, in words. */
function changedOptions(now: Record<string, string>, before: Readonly<Record<string, string>>): string[] {
  const names = [...new Set([...Object.keys(now), ...Object.keys(before)])].sort();
  return names.flatMap((name) => {
    if (now[name] === before[name]) return [];
    if (before[name] === undefined) return [`option ${name} was added`];
    if (now[name] === undefined) return [`option ${name} was removed`];
    return [`option ${name} changed`];
  });
}

/** Says in words which key part changed. */
export function describePart(part: string, node: GraphNode): string {
  const prov = /^provision\[(\d+)\]$/.exec(part);
  if (prov) {
    const step = node.provision[Number(prov[1])];
    return `provisioner #${Number(prov[1]) + 1}${step ? ` (${step.type})` : ""} changed`;
  }
  const dep = /^deps?\.(.+)$/.exec(part);
  if (dep) return `upstream ${dep[1]} changed`;
  if (part === "config") return "platform options changed";
  if (part === "source") return "source changed";
  if (part === "driver" || part === "driverVersion") return "driver version changed";
  if (part === "errorCleanup") return "errorCleanup provisioner changed";
  return `${part} changed`;
}

/** Why a node whose key differs from the state's must rebuild. */
export function rebuildReasons(node: GraphNode, record: NodeState): string[] {
  const reasons: string[] = [];
  const now = nodeFiles(node);
  const before = record.files ?? {};
  const changedFiles = Object.keys(now).filter((rel) => before[rel] !== undefined && before[rel] !== now[rel]);
  for (const rel of changedFiles.sort()) reasons.push(`file ${rel} changed`);
  const parts = new Set([...Object.keys(node.keyParts), ...Object.keys(record.keyParts ?? {})]);
  for (const part of [...parts].sort()) {
    const a = node.keyParts[part];
    const b = record.keyParts?.[part];
    if (a === b) continue;
    if (part === "config" && a !== undefined && b !== undefined && record.options) {
      // Named options; none when only a path option's file changed (already said above).
      const named = changedOptions(optionDigests(node.config), record.options);
      if (named.length > 0) reasons.push(...named);
      else if (changedFiles.length === 0) reasons.push(describePart(part, node));
      continue;
    }
    if (a === undefined) reasons.push(`${part} was removed`);
    else if (b === undefined) reasons.push(/^provision\[/.test(part) ? `${describePart(part, node).replace(" changed", "")} was added` : `${part} was added`);
    else reasons.push(describePart(part, node));
  }
  if (reasons.length === 0) reasons.push("its cache key changed");
  return reasons;
}

/** Plans every node of `nodes` (topological order) against `state`. */
export async function planNodes(nodes: readonly GraphNode[], state: StateFile, options: PlanOptions): Promise<NodePlan[]> {
  const byId = new Map<string, NodePlan>();
  const decide = async (node: GraphNode): Promise<NodePlan> => {
    const record = state.nodes[node.id];
    if (!record) return { node: node.id, status: "build", reasons: ["not built yet"] };
    if (options.force && !options.frozen?.has(node.id)) return { node: node.id, status: "rebuild", reasons: ["--force"] };
    if (record.key !== node.key) return { node: node.id, status: "rebuild", reasons: rebuildReasons(node, record) };
    const reasons: string[] = [];
    for (const dep of node.deps) {
      const depPlan = byId.get(dep);
      if (depPlan && depPlan.status !== "up-to-date") reasons.push(`upstream ${dep} will be rebuilt`);
      const depState = state.nodes[dep];
      const used = record.inputs?.[dep];
      if (!depPlan?.status || depPlan.status === "up-to-date") {
        if (depState && used !== undefined && depState.artifact.id !== used) reasons.push(`upstream ${dep}'s artifact changed (${used} → ${depState.artifact.id})`);
      }
    }
    if (reasons.length) return { node: node.id, status: "rebuild", reasons };
    if (!(await options.exists(node, record))) {
      return { node: node.id, status: "rebuild", reasons: [`its artifact ${record.artifact.id} no longer exists`] };
    }
    return { node: node.id, status: "up-to-date", reasons: [] };
  };
  // Nodes whose upstreams are decided are checked concurrently (exists() may be a network call).
  const done = new Map<string, Promise<NodePlan>>();
  const nodeById = new Map(nodes.map((n) => [n.id, n]));
  const planOne = (node: GraphNode): Promise<NodePlan> => {
    let p = done.get(node.id);
    if (!p) {
      const deps = node.deps.map((d) => nodeById.get(d)).filter((n): n is GraphNode => !!n);
      p = Promise.all(deps.map(planOne)).then(async () => {
        const plan = await decide(node);
        byId.set(node.id, plan);
        return plan;
      });
      done.set(node.id, p);
    }
    return p;
  };
  return Promise.all(nodes.map(planOne));
}

/** The one-line form `imgc plan` prints. */
export function formatPlanLine(plan: NodePlan): string {
  const sign = plan.status === "build" ? "+" : plan.status === "rebuild" ? "~" : "=";
  const word = plan.status === "build" ? "build" : plan.status === "rebuild" ? "rebuild" : "up to date";
  return `${sign} ${plan.node}: ${word}${plan.reasons.length && plan.status === "rebuild" ? ` (${plan.reasons.join("; ")})` : ""}`;
}
