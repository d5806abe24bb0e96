/** `--json`: one event per line, exactly the `RuntimeEvent` objects (schema in docs/runtime.md). */
import type { EventBus } from "../events.js";

/** Writes JSON lines to `out`; returns the unsubscribe function. */
export function attachJson(bus: EventBus, out: NodeJS.WritableStream): () => void {
  return bus.on((e) => {
    out.write(JSON.stringify(e) + "\n");
  });
}
