/**
 * The seam between `imgc plan` and the runtime's state: per node, whether it would be built
 * (`+ build`), is up to date (`=`), or must rebuild (`~`, with the reasons). The runtime owns the
 * comparison (runtime/plan.ts reads `.imgc/` state and asks drivers whether artifacts still
 * exist); this function is where `imgc plan` calls it. Until it is wired, it returns undefined
 * and plan prints each node's cache key without a status.
 */
import type { BuildGraph } from "../compiler/ir.js";

/** Plan's decision for one node, as `imgc plan` prints it. */
export interface NodeStatus {
  /** `build` (never built), `up-to-date`, or `rebuild`. */
  readonly status: "build" | "up-to-date" | "rebuild";
  /** Why it builds or rebuilds, as sentences (e.g. "file nginx.conf changed"). */
  readonly reasons: readonly string[];
}

/**
 * Compares `graph` with the state next to its definitions (`graph.project.root/.imgc/`).
 * Returns a status per node id, or undefined when no state comparison is available.
 */
export async function planStatuses(graph: BuildGraph): Promise<ReadonlyMap<string, NodeStatus> | undefined> {
  const [{ planProject }, { EventBus }, { Redactor }] = await Promise.all([
    import("../runtime/apply.js"),
    import("../runtime/events.js"),
    import("../runtime/redact.js"),
  ]);
  const redactor = new Redactor();
  const plans = await planProject(graph, { bus: new EventBus(redactor), redactor });
  return new Map(plans.map((p) => [p.node, { status: p.status, reasons: p.reasons }]));
}
