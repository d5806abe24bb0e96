/**
 * The `BuildLog` a node's driver, steps and provisioners write to: log lines and command output
 * become events (output split into lines, so a secret is never cut across two events), and
 * tracked resources are kept so an abort, a failed cleanup or a third Ctrl-C can list them.
 */
import type { EventBus } from "./events.js";
import type { BuildLog, LiveResource } from "./types.js";

/** Resources alive right now, by node. Shared by the apply and the CLI's signal handler. */
export class LiveResources {
  readonly byNode = new Map<string, LiveResource[]>();
  track(node: string, r: LiveResource): void {
    const list = this.byNode.get(node) ?? [];
    if (!list.some((x) => x.kind === r.kind && x.id === r.id && x.where === r.where)) list.push(r);
    this.byNode.set(node, list);
  }
  untrack(node: string, r: LiveResource): void {
    const list = (this.byNode.get(node) ?? []).filter((x) => !(x.kind === r.kind && x.id === r.id && x.where === r.where));
    if (list.length) this.byNode.set(node, list);
    else this.byNode.delete(node);
  }
  /** Every live resource, with its node. */
  all(): (LiveResource & { node: string })[] {
    return [...this.byNode].flatMap(([node, list]) => list.map((r) => ({ ...r, node })));
  }
  of(node: string): LiveResource[] {
    return [...(this.byNode.get(node) ?? [])];
  }
}

/** A node's `BuildLog`, plus `flush` for the partial output lines at its end. */
export interface NodeLog extends BuildLog {
  flush(): void;
}

/** Makes the log of one node. */
export function nodeLog(node: string, bus: EventBus, live: LiveResources): NodeLog {
  const partial = { stdout: "", stderr: "" };
  const emitLines = (stream: "stdout" | "stderr", text: string): void => {
    const lines = (partial[stream] + text).split(/\r?\n/);
    partial[stream] = lines.pop() ?? "";
    for (const line of lines) bus.emit({ type: "output", node, stream, line });
    // A runaway line without newline is flushed in pieces rather than held forever.
    if (partial[stream].length > 64 * 1024) {
      bus.emit({ type: "output", node, stream, line: partial[stream] });
      partial[stream] = "";
    }
  };
  return {
    log: (level, message) => bus.emit({ type: "log", node, level, message }),
    output: (stream, chunk) => emitLines(stream, chunk),
    track: (r) => live.track(node, r),
    untrack: (r) => live.untrack(node, r),
    flush() {
      for (const stream of ["stdout", "stderr"] as const) {
        if (partial[stream]) bus.emit({ type: "output", node, stream, line: partial[stream] });
        partial[stream] = "";
      }
    },
  };
}
