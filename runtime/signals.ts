/**
 * Ctrl-C during an apply. First SIGINT/SIGTERM: cancel the running steps (one AbortSignal),
 * run the cleanups, exit non-zero. Second: say that cleanup is running. Third: exit at once,
 * printing what may be left alive.
 */
import type { EventBus } from "./events.js";
import { EXIT } from "./exit-codes.js";
import type { LiveResources } from "./node-log.js";

/** Installs the handlers for the duration of a command; returns the function that removes them. */
export function handleSignals(options: {
  controller: AbortController;
  bus: EventBus;
  live: LiveResources;
  stderr?: NodeJS.WritableStream;
  exit?: (code: number) => void;
}): () => void {
  const stderr = options.stderr ?? process.stderr;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let count = 0;
  const saved = new Map<NodeJS.Signals, NodeJS.SignalsListener[]>();
  const handler = (signal: NodeJS.Signals): void => {
    count++;
    if (count === 1) {
      options.bus.emit({ type: "signal", signal, count, message: `${signal}: cancelling; running steps stop and their cleanups run (press Ctrl-C again to see what is going on)` });
      options.controller.abort(new Error(`interrupted by ${signal}`));
    } else if (count === 2) {
      options.bus.emit({ type: "signal", signal, count, message: `${signal}: cleanup is running; press Ctrl-C once more to exit at once (resources may be left behind)` });
    } else {
      const left = options.live.all();
      const lines = left.length
        ? ["exiting at once; these may be left alive:", ...left.map((r) => `  ${r.node}: ${r.kind} ${r.id}${r.where ? ` (${r.where})` : ""}`)]
        : ["exiting at once; no tracked resources were alive"];
      options.bus.emit({ type: "signal", signal, count, message: lines.join("\n") });
      stderr.write(lines.join("\n") + "\n");
      exit(EXIT.INTERRUPTED);
    }
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    // Our handler replaces any exit-at-once handler while the apply runs.
    saved.set(sig, process.listeners(sig));
    process.removeAllListeners(sig);
    process.on(sig, handler);
  }
  return () => {
    for (const [sig, listeners] of saved) {
      process.removeListener(sig, handler);
      for (const l of listeners) process.on(sig, l);
    }
  };
}
