/**
 * The scheduler: starts each node once all its dependencies succeeded, keeping at most
 * `parallelism` nodes running, and at most `maxParallel` of one group (a driver's limit). A node
 * that fails makes its dependents (transitively) "skipped" with the reason, while independent
 * nodes go on. Once the signal aborts, nothing new starts and waiting nodes end "cancelled".
 */

/** A node as the scheduler sees it. */
export interface SchedNode {
  readonly id: string;
  readonly deps: readonly string[];
  /** Nodes of one group share `groupLimit` (e.g. one platform type). */
  readonly group?: string;
}

/** How a scheduled node ended. */
export type SchedResult = "ok" | "failed" | "cancelled";

/** Settings and callbacks of a walk. */
export interface ScheduleOptions {
  readonly nodes: readonly SchedNode[];
  /** Most nodes running at once. */
  readonly parallelism: number;
  /** Most nodes of a group running at once; absent or 0: no group limit. */
  readonly groupLimit?: (group: string) => number | undefined;
  /** Builds one node. A throw counts as "failed". */
  readonly run: (id: string) => Promise<SchedResult>;
  /** A node will not run: a dependency failed or was skipped/cancelled, or the walk was cancelled. */
  readonly skip: (id: string, status: "skipped" | "cancelled", why: string) => void;
  readonly signal: AbortSignal;
}

/** Walks the graph; resolves with each node's result once every node has ended. */
export async function schedule(options: ScheduleOptions): Promise<Map<string, SchedResult | "skipped">> {
  const { nodes, signal } = options;
  const parallelism = Math.max(1, Math.floor(options.parallelism));
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const dependents = new Map<string, string[]>();
  for (const n of nodes) {
    for (const d of n.deps) {
      if (!byId.has(d)) continue; // outside the walk: the caller checked it is available
      dependents.set(d, [...(dependents.get(d) ?? []), n.id]);
    }
  }
  const results = new Map<string, SchedResult | "skipped">();
  const pending = new Set(nodes.map((n) => n.id));
  const running = new Map<string, Promise<void>>();
  const groupRunning = new Map<string, number>();

  const markSkipped = (id: string, why: string): void => {
    if (!pending.has(id)) return;
    pending.delete(id);
    results.set(id, "skipped");
    options.skip(id, "skipped", why);
    for (const dep of dependents.get(id) ?? []) markSkipped(dep, `dependency ${id} was not built`);
  };

  const ready = (n: SchedNode): boolean => n.deps.every((d) => !byId.has(d) || results.get(d) === "ok");
  const groupFree = (n: SchedNode): boolean => {
    if (!n.group) return true;
    const limit = options.groupLimit?.(n.group);
    return !limit || (groupRunning.get(n.group) ?? 0) < limit;
  };

  return new Promise((resolve) => {
    const pump = (): void => {
      if (signal.aborted) {
        for (const id of [...pending]) {
          pending.delete(id);
          results.set(id, "cancelled");
          options.skip(id, "cancelled", "the apply was interrupted before it started");
        }
      }
      // Nodes keep their topological order: the first ready ones start first.
      for (const n of nodes) {
        if (running.size >= parallelism) break;
        if (!pending.has(n.id) || !ready(n) || !groupFree(n)) continue;
        pending.delete(n.id);
        if (n.group) groupRunning.set(n.group, (groupRunning.get(n.group) ?? 0) + 1);
        const p = options
          .run(n.id)
          .catch((): SchedResult => "failed")
          .then((result) => {
            running.delete(n.id);
            if (n.group) groupRunning.set(n.group, (groupRunning.get(n.group) ?? 1) - 1);
            results.set(n.id, result);
            if (result !== "ok") {
              const why = result === "failed" ? `dependency ${n.id} failed` : `dependency ${n.id} was cancelled`;
              for (const dep of dependents.get(n.id) ?? []) markSkipped(dep, why);
            }
            pump();
          });
        running.set(n.id, p);
      }
      if (running.size === 0) {
        // Nothing runs and nothing can start: whatever is left waits on something that never ends ok.
        for (const id of [...pending]) markSkipped(id, "its dependencies were not built");
        resolve(results);
      }
    };
    const onAbort = (): void => pump();
    signal.addEventListener("abort", onAbort, { once: true });
    pump();
  });
}
