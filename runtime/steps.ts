/**
 * The step runner (Packer's multistep): runs a driver's steps in order and calls `cleanup` for
 * every step whose `run` started, innermost first, given the outcome — after success, failure
 * or cancellation. One `AbortSignal` reaches every step. On a failure, `--on-error` decides:
 * `cleanup` (default), `abort` (keep what exists for debugging and list it), `ask` (clean up,
 * abort, or retry the failed step) or `run-cleanup-provisioner` (run the image's errorCleanup
 * provisioner, then clean up).
 */
import type { Outcome, Step } from "./types.js";

/** What to do when a step fails. */
export type OnError = "cleanup" | "abort" | "ask" | "run-cleanup-provisioner";

/** The choices `ask` offers. */
export type AskChoice = "cleanup" | "abort" | "retry";

/** Hooks and settings of one run. */
export interface RunStepsOptions<C> {
  readonly signal: AbortSignal;
  /** @default "cleanup" */
  readonly onError?: OnError;
  /** Asks the user what to do about a failed step (`--on-error=ask`). */
  readonly ask?: (step: string, error: Error) => Promise<AskChoice>;
  /** Runs the errorCleanup provisioner (`--on-error=run-cleanup-provisioner`), before cleanups. */
  readonly errorCleanup?: (ctx: C) => Promise<void>;
  readonly onStepStart?: (step: string) => void;
  readonly onStepEnd?: (step: string, ok: boolean, durationMs: number, error?: Error) => void;
  readonly onCleanup?: (step: string, outcome: Outcome, error?: Error) => void;
}

/** How a run ended. */
export interface RunStepsResult {
  readonly outcome: Outcome;
  /** The failure (or the cancellation reason). */
  readonly error?: Error;
  /** The step that failed. */
  readonly failedStep?: string;
  /** True when cleanups were skipped on purpose (`abort`): resources were kept. */
  readonly kept: boolean;
  /** Cleanups that threw: reported, never swallowed. */
  readonly cleanupErrors: readonly { readonly step: string; readonly error: Error }[];
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** An error that says the run was cancelled. */
export class CancelledError extends Error {
  readonly code = "CANCELLED";
  constructor(message = "cancelled") {
    super(message);
    this.name = "CancelledError";
  }
}

/** Runs `steps` against `ctx`. Never throws: the result says how it went. */
export async function runSteps<C>(steps: readonly Step<C>[], ctx: C, options: RunStepsOptions<C>): Promise<RunStepsResult> {
  const { signal } = options;
  let mode: OnError = options.onError ?? "cleanup";
  const started: Step<C>[] = [];
  let outcome: Outcome = "ok";
  let error: Error | undefined;
  let failedStep: string | undefined;

  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    if (signal.aborted) {
      outcome = "cancelled";
      error = new CancelledError(`cancelled before step ${step.name}`);
      break;
    }
    if (!started.includes(step)) started.push(step);
    options.onStepStart?.(step.name);
    const t0 = Date.now();
    try {
      await step.run(ctx, signal);
      if (signal.aborted) throw new CancelledError(`cancelled during step ${step.name}`);
      options.onStepEnd?.(step.name, true, Date.now() - t0);
    } catch (e) {
      const err = asError(e);
      options.onStepEnd?.(step.name, false, Date.now() - t0, err);
      if (signal.aborted) {
        outcome = "cancelled";
        error = err instanceof CancelledError ? err : new CancelledError(`cancelled during step ${step.name}`);
        break;
      }
      if (mode === "ask" && options.ask) {
        const choice = await options.ask(step.name, err);
        if (choice === "retry" && !signal.aborted) {
          i--;
          continue;
        }
        mode = choice === "abort" ? "abort" : "cleanup";
      }
      outcome = "failed";
      error = err;
      failedStep = step.name;
      break;
    }
  }

  if (outcome === "failed" && mode === "run-cleanup-provisioner" && options.errorCleanup) {
    try {
      await options.errorCleanup(ctx);
    } catch (e) {
      options.onCleanup?.("error-cleanup provisioner", outcome, asError(e));
    }
  }
  if (outcome === "failed" && mode === "abort") {
    return { outcome, error, failedStep, kept: true, cleanupErrors: [] };
  }

  const cleanupErrors: { step: string; error: Error }[] = [];
  for (const step of [...started].reverse()) {
    if (!step.cleanup) continue;
    try {
      await step.cleanup(ctx, outcome);
      options.onCleanup?.(step.name, outcome);
    } catch (e) {
      const err = asError(e);
      cleanupErrors.push({ step: step.name, error: err });
      options.onCleanup?.(step.name, outcome, err);
    }
  }
  return { outcome, error, failedStep, kept: false, cleanupErrors };
}
