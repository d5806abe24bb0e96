/** Polling until a resource reaches a state, with a deadline and the build's abort signal. */
import { sleep } from "./retry.js";

/** What one poll saw. */
export interface PollResult {
  /** The state reached is the one waited for. */
  readonly done: boolean;
  /** A state that will never lead there (e.g. `failed`, `terminated`): the reason. */
  readonly failure?: string;
  /** The current state, for the timeout message. */
  readonly state: string;
}

/** Polls `probe` every `pollMs` until done; throws on failure, deadline (`timeoutMs`) or abort. */
export async function waitFor(what: string, probe: () => Promise<PollResult>, opts: { pollMs: number; timeoutMs: number; signal: AbortSignal }): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const r = await probe();
    if (r.done) return;
    if (r.failure) throw new Error(`${what} failed: ${r.failure}`);
    if (Date.now() >= deadline) throw new Error(`${what} did not happen within ${Math.round(opts.timeoutMs / 100) / 10}s (still ${r.state}); raise waitTimeout if it is just slow`);
    await sleep(opts.pollMs, opts.signal);
  }
}
