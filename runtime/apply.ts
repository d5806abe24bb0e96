/**
 * `imgc apply`, the orchestration: compiled graph → lock the state → plan → schedule the nodes
 * that must (re)build → per node: resolve its config, load its driver from `node.driver.url`,
 * run its steps (provisioners at `PROVISION`), run its post-processors → record the artifact in
 * the state after each node, so an interrupted apply keeps what it finished.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BuildGraph, GraphNode, IrStep } from "../compiler/ir.js";
import type { Json } from "../lang/values.js";
import { loadDriver } from "./drivers.js";
import type { EventBus, NodeStatus } from "./events.js";
import { EXIT } from "./exit-codes.js";
import { LiveResources, nodeLog } from "./node-log.js";
import { nodeFiles, optionDigests, planNodes, type NodePlan } from "./plan.js";
import { firstStalePost, runPostChain } from "./post/chain.js";
import { attachLogFiles } from "./render/log-files.js";
import { provisionStep, runErrorCleanup, type ProvisionEnv } from "./provision.js";
import type { Redactor } from "./redact.js";
import { makeRunFacts, nodeUuid, resolveJson, type ResolveContext, type RunFacts, type SecretSource } from "./resolve.js";
import { schedule, type SchedResult } from "./scheduler.js";
import { selectNodes } from "./select.js";
import { acquireLock, LockTimeoutError } from "./state/lock.js";
import { readState, StateWriter, type NodeState, type StateFile } from "./state/store.js";
import { runSteps, type AskChoice, type OnError } from "./steps.js";
import { PROVISION, type ArtifactEnv, type ArtifactRecord, type BuildFacts, type DriverEnv, type PlatformDriver, type Step } from "./types.js";

/** Settings of an apply; the CLI flags map one to one. */
export interface ApplyOptions {
  /** Where the state lives. @default `<project root>/.imgc/state.json` */
  readonly statePath?: string;
  /** Most nodes building at once (`--parallelism`). @default 4 */
  readonly parallelism?: number;
  /** Globs of nodes or images to build (`--only`). */
  readonly only?: readonly string[];
  /** Globs of nodes or images to leave out (`--except`). */
  readonly except?: readonly string[];
  /** Rebuild the selected nodes even when up to date (`--force`). */
  readonly force?: boolean;
  /** What to do when a step fails (`--on-error`). @default "cleanup" */
  readonly onError?: OnError;
  /** How long to wait for a held state lock (`--lock-timeout`). @default 0 */
  readonly lockTimeoutMs?: number;
  /** Cancels the apply (SIGINT/SIGTERM): running steps stop, cleanups run. */
  readonly signal?: AbortSignal;
  /** Where events go (renderers subscribe to it). */
  readonly bus: EventBus;
  /** Every secret is registered here before use. */
  readonly redactor: Redactor;
  /** Resources alive right now (the CLI lists them on a third Ctrl-C). */
  readonly live?: LiveResources;
  /** Asks what to do about a failed step (`--on-error=ask`). */
  readonly ask?: (node: string, step: string, error: Error) => Promise<AskChoice>;
  /** Secret values from the compiler, and the environment for `IMGC_SECRET_*`. */
  readonly secrets?: SecretSource;
  /** Per-node log files' folder; `false` writes none. @default `<project root>/.imgc/logs` */
  readonly logsDir?: string | false;
}

/** How an apply went. */
export interface ApplyResult {
  readonly exitCode: number;
  readonly runId: string;
  /** Each selected node's end. */
  readonly statuses: ReadonlyMap<string, NodeStatus>;
  readonly plans: readonly NodePlan[];
}

/** The state path of a project. */
export function defaultStatePath(graph: BuildGraph): string {
  return join(graph.project.root, ".imgc", "state.json");
}

/** Everything a node build needs from its apply. */
interface ApplyRun {
  readonly graph: BuildGraph;
  readonly byId: ReadonlyMap<string, GraphNode>;
  readonly options: ApplyOptions;
  readonly live: LiveResources;
  readonly run: RunFacts;
  readonly writer: StateWriter;
  readonly results: Map<string, ArtifactRecord>;
  readonly preflights: Map<PlatformDriver, Promise<void>>;
  readonly signal: AbortSignal;
  readonly statuses: Map<string, NodeStatus>;
  /** `uuid()` per node: one value for its options, provisioners and post-processors. */
  readonly uuids: Map<string, string>;
}

function artifactLookup(run: ApplyRun): (id: string) => ArtifactRecord | undefined {
  return (id) => run.results.get(id) ?? run.writer.state.nodes[id]?.artifact;
}

function resolveContext(run: ApplyRun, node: GraphNode, facts: BuildFacts): ResolveContext {
  return {
    node,
    run: run.run,
    uuid: run.uuids.get(node.id) ?? (run.uuids.set(node.id, nodeUuid()), run.uuids.get(node.id)!),
    artifact: artifactLookup(run),
    facts,
    secrets: run.options.secrets ?? {},
    redactor: run.options.redactor,
  };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Builds one node; resolves with how it ended (never throws). */
async function buildNode(run: ApplyRun, node: GraphNode): Promise<SchedResult> {
  const { bus, redactor } = run.options;
  const t0 = Date.now();
  const log = nodeLog(node.id, bus, run.live);
  bus.emit({ type: "node.start", node: node.id });
  let workDir: string | undefined;
  const end = (status: NodeStatus, extra: { artifactId?: string; error?: string } = {}): void => {
    log.flush();
    run.statuses.set(node.id, status);
    const left = run.live.of(node.id);
    bus.emit({ type: "node.end", node: node.id, status, durationMs: Date.now() - t0, ...extra, ...(left.length ? { left } : {}) });
  };
  try {
    // Upstream artifacts: built in this run, or recorded in the state (nodes outside --only).
    const upstream: Record<string, ArtifactRecord> = {};
    for (const dep of node.deps) {
      const a = artifactLookup(run)(dep);
      if (!a) throw new Error(`upstream ${dep} has no artifact: it is not selected and not recorded in the state; build it first or include it in --only`);
      upstream[dep] = a;
    }
    const facts: BuildFacts = {};
    const rctx = resolveContext(run, node, facts);
    const driver = await loadDriver(node);
    const options = resolveJson(node.config, rctx, "platform options");
    workDir = await mkdtemp(join(tmpdir(), `imgc-${node.id.replace(/[^A-Za-z0-9._-]/g, "_")}-`));
    const env: DriverEnv = {
      resolved: { node, options, upstream },
      projectRoot: run.graph.project.root,
      workDir,
      log,
      redact: (v) => redactor.add(v),
      facts,
      runId: run.run.runId,
    };
    if (driver.preflight) {
      let p = run.preflights.get(driver);
      if (!p) run.preflights.set(driver, (p = driver.preflight(env, run.signal)));
      await p;
    }
    const ctx = await driver.createContext(env);
    const penv: ProvisionEnv = {
      env,
      resolve: rctx,
      log,
      onProvisioner: (label) => bus.emit({ type: "step.start", node: node.id, step: label }),
    };
    const list = driver.steps(ctx);
    if (!list.includes(PROVISION) && node.provision.length > 0) {
      throw new Error(`the ${node.type} platform has no provisioning step, but ${node.image} lists ${node.provision.length} provisioner(s)`);
    }
    const steps: Step<unknown>[] = list.map((s) => (s === PROVISION ? provisionStep(driver, penv) : s));
    const result = await runSteps(steps, ctx, {
      signal: run.signal,
      onError: run.options.onError ?? "cleanup",
      ...(run.options.ask ? { ask: (step: string, error: Error) => run.options.ask!(node.id, step, error) } : {}),
      errorCleanup: (c) => runErrorCleanup(driver, c, penv, run.signal),
      onStepStart: (step) => bus.emit({ type: "step.start", node: node.id, step }),
      onStepEnd: (step, ok, durationMs, error) =>
        bus.emit({ type: "step.end", node: node.id, step, ok, durationMs, ...(error ? { error: message(error) } : {}) }),
      onCleanup: (step, outcome, error) => bus.emit({ type: "cleanup", node: node.id, step, outcome, ...(error ? { error: message(error) } : {}) }),
    });
    const cleanupNote = result.cleanupErrors.length
      ? `; cleanup failed: ${result.cleanupErrors.map((c) => `${c.step}: ${c.error.message}`).join("; ")}`
      : "";
    if (result.outcome === "cancelled") {
      end("cancelled", { error: `interrupted${result.error ? ` (${result.error.message})` : ""}${cleanupNote}` });
      return "cancelled";
    }
    if (result.outcome === "failed") {
      if (result.kept) {
        end("kept", { error: `${result.error?.message ?? "failed"} (--on-error=abort: resources kept for debugging)` });
      } else end("failed", { error: `${result.error?.message ?? "failed"}${cleanupNote}` });
      return "failed";
    }
    const artifact = driver.artifact(ctx);
    const builtAt = new Date();
    const inputs: Record<string, string> = {};
    for (const [dep, a] of Object.entries(upstream)) inputs[dep] = a.id;
    if (!artifact) {
      await run.writer.update((s) => void delete s.nodes[node.id]);
      end(cleanupNote ? "failed" : "built", cleanupNote ? { error: cleanupNote.slice(2) } : {});
      return cleanupNote ? "failed" : "ok";
    }
    run.results.set(node.id, artifact);
    const record: NodeState = {
      key: node.key,
      keyParts: node.keyParts,
      files: nodeFiles(node),
      options: optionDigests(node.config),
      artifact,
      driver: { ...node.driver, type: node.type },
      builtAt: builtAt.toISOString(),
      runId: run.run.runId,
      inputs,
      facts: { timestamp: run.run.timestamp },
    };
    await run.writer.update((s) => void (s.nodes[node.id] = record));
    const postOk = await runPosts(run, node, driver, artifact, record, 0, Math.floor(builtAt.getTime() / 1000), log);
    if (!postOk) {
      end("failed", { artifactId: artifact.id, error: "a post-processor failed" });
      return "failed";
    }
    if (cleanupNote) {
      end("failed", { artifactId: artifact.id, error: cleanupNote.slice(2) });
      return "failed";
    }
    end("built", { artifactId: artifact.id });
    return "ok";
  } catch (error) {
    log.log("error", message(error));
    end(run.signal.aborted ? "cancelled" : "failed", { error: message(error) });
    return run.signal.aborted ? "cancelled" : "failed";
  } finally {
    if (workDir) await rm(workDir, { recursive: true, force: true }).catch(() => {});
  }
}

/** Runs a node's post-processors from `from`; records them; false when one failed. */
async function runPosts(
  run: ApplyRun,
  node: GraphNode,
  driver: PlatformDriver,
  artifact: ArtifactRecord,
  record: NodeState,
  from: number,
  buildTime: number,
  log: ReturnType<typeof nodeLog>,
): Promise<boolean> {
  if (node.post.length === 0 || from >= node.post.length) return true;
  const { bus, redactor } = run.options;
  const facts: BuildFacts = {};
  const rctx = resolveContext(run, node, facts);
  try {
    const records = await runPostChain({
      node,
      artifact,
      previous: record.post ?? [],
      from,
      resolveOptions: (step: IrStep, i: number) => resolveJson(step.options, rctx, `post[${i}] ${step.type} options`),
      context: {
        node: node.id,
        platformType: node.type,
        projectRoot: run.graph.project.root,
        runId: run.run.runId,
        buildTime,
        log,
        redact: (v) => redactor.add(v),
        redactText: (t) => redactor.redact(t),
      },
      destroyBuilderArtifact: async (a) => {
        // The driver deletes what it made (an image); the artifact's local files go either way.
        if (driver.destroy) await driver.destroy(a, { projectRoot: run.graph.project.root, log }, run.signal);
        await Promise.all(a.files.map((f) => unlink(f).catch(() => {})));
      },
      signal: run.signal,
      onPost: (index, type, status, artifactId, error) =>
        bus.emit({ type: "post", node: node.id, post: type, index, status, ...(artifactId ? { artifactId } : {}), ...(error ? { error: message(error) } : {}) }),
    });
    await run.writer.update((s) => {
      const current = s.nodes[node.id];
      if (current) s.nodes[node.id] = { ...current, post: records };
    });
    return true;
  } catch (error) {
    log.log("error", message(error));
    return false;
  }
}

/** Asks a node's driver whether its recorded artifact still exists (true when the driver cannot tell). */
async function artifactExists(run: Pick<ApplyRun, "graph" | "options" | "signal">, node: GraphNode, record: NodeState, live: LiveResources): Promise<boolean> {
  // When a post-processor consumed the builder's artifact, what must exist is the chain's output.
  if (record.post?.some((p) => p.consumedInput)) {
    const { access } = await import("node:fs/promises");
    const last = record.post[record.post.length - 1]!.artifact;
    return (await Promise.all(last.files.map((f) => access(f).then(() => true, () => false)))).every(Boolean);
  }
  const driver = await loadDriver(node);
  if (!driver.exists) return true;
  const env: ArtifactEnv = { projectRoot: run.graph.project.root, log: nodeLog(node.id, run.options.bus, live) };
  return driver.exists(record.artifact, env, run.signal);
}

/** Plans without building (`imgc plan`): no lock, nothing written. */
export async function planProject(
  graph: BuildGraph,
  options: Pick<ApplyOptions, "statePath" | "only" | "except" | "force" | "bus" | "redactor" | "signal">,
): Promise<NodePlan[]> {
  const statePath = options.statePath ?? defaultStatePath(graph);
  const state = await readState(statePath);
  const selected = await selectNodes(graph.nodes, options);
  const signal = options.signal ?? new AbortController().signal;
  const live = new LiveResources();
  const plans = await planNodes(selected, state, {
    force: options.force ?? false,
    exists: (node, record) => artifactExists({ graph, options: options as ApplyOptions, signal }, node, record, live),
  });
  for (const p of plans) options.bus.emit({ type: "plan", node: p.node, status: p.status, reasons: p.reasons });
  return plans;
}

/** Applies a compiled graph. Never throws for build failures: the result's exit code says. */
export async function apply(graph: BuildGraph, options: ApplyOptions): Promise<ApplyResult> {
  const { bus, redactor } = options;
  const t0 = Date.now();
  const runId = randomUUID();
  const signal = options.signal ?? new AbortController().signal;
  const statePath = options.statePath ?? defaultStatePath(graph);
  const live = options.live ?? new LiveResources();
  const statuses = new Map<string, NodeStatus>();
  const selected = await selectNodes(graph.nodes, options);

  let lock;
  try {
    lock = await acquireLock(statePath, {
      timeoutMs: options.lockTimeoutMs ?? 0,
      command: "apply",
      signal,
      onWait: (h) => bus.emit({ type: "log", level: "info", message: `waiting for the state lock held by ${h ? `pid ${h.pid} on ${h.host}` : "another process"}…` }),
      onStale: (h) => bus.emit({ type: "log", level: "warn", message: `taking over the state lock left by pid ${h.pid} on ${h.host} (${h.command} since ${h.since}), which is no longer running` }),
    });
  } catch (error) {
    if (error instanceof LockTimeoutError) {
      bus.emit({ type: "log", level: "error", message: error.message });
      return { exitCode: EXIT.LOCKED, runId, statuses, plans: [] };
    }
    // Ctrl-C while waiting for the lock: nothing was started, nothing to clean up.
    if (signal.aborted) return { exitCode: EXIT.INTERRUPTED, runId, statuses, plans: [] };
    throw error;
  }
  const detachLogs = options.logsDir === false ? undefined : attachLogFiles(bus, options.logsDir ?? join(graph.project.root, ".imgc", "logs"));
  try {
    const state: StateFile = await readState(statePath);
    const writer = new StateWriter(statePath, state, (s) => redactor.redactDeep(s));
    const parallelism = options.parallelism ?? 4;
    bus.emit({ type: "apply.start", runId, nodes: selected.map((n) => n.id), parallelism, statePath });
    const run: ApplyRun = {
      graph,
      byId: new Map(graph.nodes.map((n) => [n.id, n])),
      options,
      live,
      run: makeRunFacts(runId),
      writer,
      results: new Map(),
      preflights: new Map(),
      signal,
      statuses,
      uuids: new Map(),
    };
    const plans = await planNodes(selected, state, { force: options.force ?? false, exists: (node, record) => artifactExists(run, node, record, live) });
    for (const p of plans) bus.emit({ type: "plan", node: p.node, status: p.status, reasons: p.reasons });
    const planOf = new Map(plans.map((p) => [p.node, p]));

    // Up-to-date nodes: only post-processors whose options changed run.
    const upToDate = selected.filter((n) => planOf.get(n.id)?.status === "up-to-date");
    for (const node of upToDate) {
      const record = state.nodes[node.id]!;
      run.results.set(node.id, record.artifact);
    }
    const postWork: Promise<void>[] = [];
    for (const node of upToDate) {
      const record = state.nodes[node.id]!;
      postWork.push(
        (async () => {
          const from = await firstStalePost(node, record.post);
          let ok = true;
          if (from < node.post.length) {
            const driver = await loadDriver(node);
            const buildTime = Math.floor(Date.parse(record.builtAt) / 1000);
            ok = await runPosts(run, node, driver, record.artifact, record, from, buildTime, nodeLog(node.id, bus, live));
          }
          statuses.set(node.id, ok ? "up-to-date" : "failed");
          bus.emit({ type: "node.end", node: node.id, status: ok ? "up-to-date" : "failed", durationMs: 0, artifactId: record.artifact.id, ...(ok ? {} : { error: "a post-processor failed" }) });
        })(),
      );
    }
    await Promise.all(postWork);

    const toBuild = selected.filter((n) => planOf.get(n.id)?.status !== "up-to-date");
    const byId = run.byId;
    // Drivers of nodes that build are loaded now, for their maxParallel (a load error is
    // reported by the node itself).
    const limits = new Map<string, number | undefined>();
    await Promise.all(
      [...new Map(toBuild.map((n) => [n.driver.url, n])).values()].map((n) =>
        loadDriver(n).then((d) => void limits.set(n.driver.url, d.maxParallel), () => {}),
      ),
    );
    const results = await schedule({
      nodes: toBuild.map((n) => ({ id: n.id, deps: n.deps, group: n.driver.url })),
      parallelism,
      groupLimit: (url) => limits.get(url),
      run: async (id) => {
        const result = await buildNode(run, byId.get(id)!);
        return result;
      },
      skip: (id, status, why) => {
        statuses.set(id, status);
        bus.emit({ type: "node.end", node: id, status, durationMs: 0, error: why });
      },
      signal,
    });
    for (const [id, r] of results) if (!statuses.has(id)) statuses.set(id, r === "ok" ? "built" : r);
    const by = (s: NodeStatus): string[] => [...statuses].filter(([, v]) => v === s).map(([k]) => k);
    const failed = [...by("failed"), ...by("kept")];
    const exitCode = signal.aborted ? EXIT.INTERRUPTED : failed.length || by("skipped").length || by("cancelled").length ? EXIT.BUILD_FAILED : EXIT.OK;
    const artifacts: Record<string, string> = {};
    for (const [id, a] of run.results) artifacts[id] = a.id;
    bus.emit({
      type: "apply.end",
      ok: exitCode === EXIT.OK,
      exitCode,
      durationMs: Date.now() - t0,
      built: by("built"),
      upToDate: by("up-to-date"),
      failed,
      skipped: by("skipped"),
      cancelled: by("cancelled"),
      artifacts,
      left: live.all(),
    });
    return { exitCode, runId, statuses, plans };
  } finally {
    detachLogs?.();
    await lock.release();
  }
}

export type { Json };
