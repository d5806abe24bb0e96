/**
 * The `breakpoint` provisioner: pauses the build until Enter is pressed, so one can log into
 * the machine and look around. Without a terminal, or in CI, it says it is skipped and goes on.
 */
import { createInterface } from "node:readline";
import type { ProvisionerImpl } from "../types.js";

/** breakpoint options (resolved). */
export interface BreakpointRuntimeOptions {
  readonly note?: string;
  readonly disable?: boolean;
}

/** Waits for one line on `input`; rejects on abort. Exported for tests. */
export function waitForEnter(input: NodeJS.ReadableStream, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input, terminal: false });
    let settled = false;
    const done = (err?: unknown) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      if (err) reject(err);
      else resolve();
      rl.close(); // Emits 'close' synchronously: settle first.
    };
    const onAbort = () => done(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    rl.once("line", () => done());
    // stdin closed (Ctrl-D, or no more input): go on, as after Enter.
    rl.once("close", () => done());
  });
}

/** The breakpoint provisioner. */
export const breakpointProvisioner: ProvisionerImpl<BreakpointRuntimeOptions> & { input: NodeJS.ReadableStream } = {
  type: "breakpoint",
  input: process.stdin,
  async run(o, ctx, signal) {
    const note = o.note ? `: ${o.note}` : "";
    if (o.disable) {
      ctx.log.log("info", `breakpoint${note} is disabled; going on`);
      return;
    }
    if (!ctx.interactive) {
      ctx.log.log("info", `breakpoint${note} skipped: not on an interactive terminal (or CI is set)`);
      return;
    }
    const where = ctx.facts.host ? ` (machine: ${ctx.facts.user ? `${ctx.facts.user}@` : ""}${ctx.facts.host}${ctx.facts.port ? ` port ${ctx.facts.port}` : ""})` : "";
    ctx.log.log("warn", `breakpoint${note}${where}: press Enter to continue`);
    await waitForEnter(this.input, signal);
    ctx.log.log("info", "breakpoint: continuing");
  },
};

export default breakpointProvisioner;
