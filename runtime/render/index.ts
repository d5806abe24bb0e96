/** Picks the renderer: `--json`, the live TTY view, or plain lines (not a TTY, or CI). */
import type { EventBus } from "../events.js";
import { attachJson } from "./json.js";
import { attachPlain } from "./plain.js";
import { attachTty } from "./tty.js";

/** Which renderer to use. */
export type RenderMode = "json" | "tty" | "plain";

/** The renderer for this output and environment. */
export function pickRenderer(options: { json?: boolean; out?: NodeJS.WriteStream; env?: NodeJS.ProcessEnv }): RenderMode {
  const out = options.out ?? process.stdout;
  const env = options.env ?? process.env;
  if (options.json) return "json";
  return out.isTTY && !env.CI && env.TERM !== "dumb" ? "tty" : "plain";
}

/** Attaches the chosen renderer to `out`; returns the unsubscribe function. */
export function attachRenderer(bus: EventBus, mode: RenderMode, out: NodeJS.WriteStream = process.stdout, options: { debug?: boolean } = {}): () => void {
  // A closed pipe (`imgc apply --json | head`) must not crash the build: the output is dropped,
  // the build and its cleanups go on, the log files keep everything.
  let closed = false;
  out.on("error", () => void (closed = true));
  const guarded = new Proxy(out, {
    get: (target, key) => (key === "write" ? (chunk: string) => (closed ? true : target.write(chunk)) : Reflect.get(target, key)),
  }) as NodeJS.WriteStream;
  out = guarded;
  if (mode === "json") return attachJson(bus, out);
  if (mode === "tty") return attachTty(bus, out);
  return attachPlain(bus, out, options);
}
