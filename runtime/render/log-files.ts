/**
 * Full per-node logs in `.imgc/logs/<node>.log`: every event of the node (already redacted), one
 * line each, rewritten on each build of the node. Plus `.imgc/logs/apply.log` for the whole run.
 */
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { EventBus, RuntimeEvent } from "../events.js";

/** One human line for an event (shared with the plain renderer). */
export function describeEvent(e: RuntimeEvent): string {
  switch (e.type) {
    case "apply.start":
      return `apply ${e.runId}: ${e.nodes.length} node(s), parallelism ${e.parallelism}`;
    case "plan":
      return e.status === "up-to-date" ? "up to date" : `${e.status === "build" ? "build" : "rebuild"}: ${e.reasons.join("; ")}`;
    case "node.start":
      return "started";
    case "step.start":
      return `step ${e.step}…`;
    case "step.end":
      return `step ${e.step} ${e.ok ? "done" : "failed"} (${(e.durationMs / 1000).toFixed(1)}s)${e.error ? `: ${e.error}` : ""}`;
    case "cleanup":
      return `cleanup ${e.step} (${e.outcome})${e.error ? ` FAILED: ${e.error}` : ""}`;
    case "log":
      return e.level === "info" ? e.message : `${e.level}: ${e.message}`;
    case "output":
      return e.stream === "stderr" ? `! ${e.line}` : e.line;
    case "post":
      return `post-processor #${e.index + 1} ${e.post}: ${e.status}${e.artifactId ? ` → ${e.artifactId}` : ""}${e.error ? `: ${e.error}` : ""}`;
    case "node.end": {
      const left = e.left?.length ? `; left alive: ${e.left.map((r) => `${r.kind} ${r.id}${r.where ? ` (${r.where})` : ""}`).join(", ")}` : "";
      return `${e.status}${e.artifactId ? `: ${e.artifactId}` : ""}${e.error ? `: ${e.error}` : ""} (${(e.durationMs / 1000).toFixed(1)}s)${left}`;
    }
    case "signal":
      return e.message;
    case "apply.end":
      return `done in ${(e.durationMs / 1000).toFixed(1)}s: ${e.built.length} built, ${e.upToDate.length} up to date, ${e.failed.length} failed, ${e.skipped.length} skipped${e.cancelled.length ? `, ${e.cancelled.length} cancelled` : ""}`;
  }
}

/** Writes per-node log files under `dir`; returns the unsubscribe function. */
export function attachLogFiles(bus: EventBus, dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const applyLog = join(dir, "apply.log");
  const fileOf = (node: string): string => join(dir, `${node.replace(/[^A-Za-z0-9._-]/g, "_")}.log`);
  return bus.on((e) => {
    const line = `${e.time} ${e.type}${"level" in e ? ` ${e.level}` : ""} ${describeEvent(e)}\n`;
    // Synchronous appends: a log line must be on disk even if the process is killed right after.
    if (e.type === "apply.start") writeFileSync(applyLog, line);
    else appendFileSync(applyLog, ("node" in e && e.node ? `${e.node}: ` : "") + line);
    if ("node" in e && e.node) {
      if (e.type === "node.start") writeFileSync(fileOf(e.node), line);
      else if (e.type !== "plan") appendFileSync(fileOf(e.node), line);
    }
  });
}
