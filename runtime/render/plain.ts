/**
 * Plain prefixed lines (not a TTY, or CI): `base.docker: step provision…`. Up-to-date plans
 * and per-step noise stay short; command output is shown in full, as in Packer's CI output.
 */
import type { EventBus } from "../events.js";
import { describeEvent } from "./log-files.js";

/** Writes plain lines to `out`; returns the unsubscribe function. */
export function attachPlain(bus: EventBus, out: NodeJS.WritableStream, options: { debug?: boolean } = {}): () => void {
  return bus.on((e) => {
    if (e.type === "log" && e.level === "debug" && !options.debug) return;
    if (e.type === "node.end" && e.status === "up-to-date") return; // plan already said so
    // Successful step ends and cleanups are in the log files; the console shows what matters.
    if ((e.type === "step.end" && e.ok && !options.debug) || (e.type === "cleanup" && !e.error && !options.debug)) return;
    const text = describeEvent(e);
    const prefix = "node" in e && e.node ? `${e.node}: ` : "";
    out.write(`${prefix}${text}\n`);
  });
}
