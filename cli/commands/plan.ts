/**
 * `imgc plan [file]`: every node in build order with its platform, dependencies and cache key,
 * and (from the runtime's state, see cli/plan-statuses.ts) whether it would be built, is up to
 * date, or must rebuild and why.
 */
import { EXIT } from "../../compiler/diagnostics.js";
import type { ImgcCommand } from "../command.js";
import { planStatuses, type NodeStatus } from "../plan-statuses.js";

const SIGN: Record<NodeStatus["status"], string> = { build: "+", "up-to-date": "=", rebuild: "~" };
const WORD: Record<NodeStatus["status"], string> = { build: "build", "up-to-date": "up to date", rebuild: "rebuild" };

const plan: ImgcCommand = {
  command: "plan [file]",
  describe: "Show what apply would build, in dependency order, with each node's cache key",
  async run(args, cli) {
    const { graph, warnings } = await cli.compile(args);
    const statuses = await planStatuses(graph);
    if (args.json) {
      cli.json({
        ok: true,
        nodes: graph.nodes.map((n) => ({ id: n.id, type: n.type, platform: n.platform, deps: n.deps, key: n.key, ...(statuses?.get(n.id) ?? {}) })),
      });
      return EXIT.ok;
    }
    const width = Math.max(...graph.nodes.map((n) => n.id.length), 4);
    for (const n of graph.nodes) {
      const s = statuses?.get(n.id);
      const head = s ? `${SIGN[s.status]} ` : "  ";
      const tail = s ? `  ${WORD[s.status]}${s.status === "rebuild" && s.reasons.length ? ` because ${s.reasons.join("; ")}` : ""}` : "";
      cli.out(`${head}${n.id.padEnd(width)}  ${n.type.padEnd(10)} ${n.key.slice(0, 19)}…  ${n.deps.length ? `after ${n.deps.join(", ")}` : "-"}${tail}`);
    }
    warnings.forEach((w) => cli.err(`warning: ${w}`));
    if (statuses) {
      const count = (k: NodeStatus["status"]) => [...statuses.values()].filter((s) => s.status === k).length;
      cli.out(`\nPlan: ${count("build")} to build, ${count("rebuild")} to rebuild, ${count("up-to-date")} up to date.`);
    } else cli.out(`\n${graph.nodes.length} node${graph.nodes.length === 1 ? "" : "s"} (no state comparison available: statuses appear once the runtime's plan is wired into cli/plan-statuses.ts).`);
    return EXIT.ok;
  },
};
export default plan;
