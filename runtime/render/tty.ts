/**
 * The live TTY view: one line per node (state, elapsed time, current step, last output line),
 * redrawn in place at most ten times a second; log warnings and errors scroll above it; at the
 * end a summary of artifacts, cached nodes and times.
 */
import type { EventBus, RuntimeEvent } from "../events.js";

interface Row {
  state: string;
  started?: number;
  ended?: number;
  step?: string;
  last?: string;
  artifact?: string;
  error?: string;
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const ICON: Record<string, string> = { built: "✔", "up-to-date": "=", failed: "✘", skipped: "-", cancelled: "✘", kept: "!", waiting: "·" };

function elapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

/** Draws the live view on `out` (a TTY stream); returns the unsubscribe function. */
export function attachTty(bus: EventBus, out: NodeJS.WriteStream): () => void {
  const rows = new Map<string, Row>();
  let drawn = 0;
  let frame = 0;
  let dirty = false;
  const above: string[] = [];
  const width = (): number => Math.max(40, out.columns ?? 100);
  const clip = (s: string): string => (s.length > width() - 1 ? s.slice(0, width() - 2) + "…" : s);

  const render = (): void => {
    dirty = false;
    frame++;
    let text = drawn ? `\x1b[${drawn}A\x1b[0J` : "";
    for (const line of above.splice(0)) text += line + "\n";
    const idWidth = Math.min(40, Math.max(8, ...[...rows.keys()].map((k) => k.length)));
    const lines: string[] = [];
    for (const [id, r] of rows) {
      if (r.state === "up-to-date" && rows.size > 30) continue; // a big cached project would fill the screen
      const icon = r.state === "building" ? SPINNER[frame % SPINNER.length] : ICON[r.state] ?? "·";
      const time = r.started ? elapsed((r.ended ?? Date.now()) - r.started) : "";
      const detail = r.state === "building" ? `${r.step ?? ""}${r.last ? `  │ ${r.last}` : ""}` : r.error ?? r.artifact ?? "";
      lines.push(clip(`${icon} ${id.padEnd(idWidth)} ${r.state.padEnd(10)} ${time.padStart(6)}  ${detail}`));
    }
    text += lines.map((l) => l + "\n").join("");
    drawn = lines.length;
    out.write(text);
  };
  const timer = setInterval(() => {
    if (dirty || [...rows.values()].some((r) => r.state === "building")) render();
  }, 100);
  timer.unref();

  const onEvent = (e: RuntimeEvent): void => {
    const row = (id: string): Row => {
      let r = rows.get(id);
      if (!r) rows.set(id, (r = { state: "waiting" }));
      return r;
    };
    switch (e.type) {
      case "plan":
        row(e.node).state = e.status === "up-to-date" ? "up-to-date" : "waiting";
        break;
      case "node.start":
        Object.assign(row(e.node), { state: "building", started: Date.now() });
        break;
      case "step.start":
        row(e.node).step = e.step;
        break;
      case "output":
        row(e.node).last = e.line.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").trim() || row(e.node).last;
        break;
      case "log":
        if (e.level === "warn" || e.level === "error") above.push(`${e.node ? `${e.node}: ` : ""}${e.level}: ${e.message}`);
        break;
      case "cleanup":
        if (e.error) above.push(`${e.node}: cleanup ${e.step} failed: ${e.error}`);
        row(e.node).step = `cleanup ${e.step}`;
        break;
      case "signal":
        above.push(e.message);
        break;
      case "node.end": {
        const r = row(e.node);
        Object.assign(r, { state: e.status, ended: Date.now(), artifact: e.artifactId, error: e.error });
        if (e.left?.length) above.push(`${e.node}: left alive: ${e.left.map((x) => `${x.kind} ${x.id}`).join(", ")}`);
        break;
      }
      case "apply.end": {
        render();
        clearInterval(timer);
        const lines = ["", `Done in ${elapsed(e.durationMs)}: ${e.built.length} built, ${e.upToDate.length} up to date, ${e.failed.length} failed, ${e.skipped.length} skipped${e.cancelled.length ? `, ${e.cancelled.length} cancelled` : ""}.`];
        for (const [id, a] of Object.entries(e.artifacts)) lines.push(`  ${e.upToDate.includes(id) ? "=" : "+"} ${id}: ${a}`);
        for (const r of e.left) lines.push(`  ! left alive: ${r.node} ${r.kind} ${r.id}${r.where ? ` (${r.where})` : ""}`);
        out.write(lines.join("\n") + "\n");
        drawn = 0;
        return;
      }
      default:
        break;
    }
    dirty = true;
  };
  const off = bus.on(onEvent);
  return () => {
    off();
    clearInterval(timer);
  };
}
