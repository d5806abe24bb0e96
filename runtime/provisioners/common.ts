/**
 * Helpers the built-in provisioners share: reading `$path` markers, durations, pauses,
 * timeouts layered on the build's abort signal, and streaming output to the node's log.
 */
import { isIrPath, type IrPath } from "../../compiler/ir.js";
import { parseDuration, type Duration } from "../../lang/duration.js";
import { sleep } from "../communicators/ssh-transport.js";
import type { BuildLog, RemoteCommand } from "../types.js";

/** The absolute local path of a `$path` marker (or a plain string path). */
export function localPathOf(value: unknown, what: string): string {
  if (isIrPath(value)) return (value as IrPath).$path;
  if (typeof value === "string") return value;
  throw new Error(`${what} must be a local path, got ${JSON.stringify(value)}`);
}

/** Milliseconds of an optional duration option; undefined when absent. */
export function durationMs(value: Duration | string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDuration(value);
  } catch (err) {
    throw new Error(`${what}: ${(err as Error).message}`);
  }
}

/** Waits before starting (pauseBefore), logging why. */
export async function pause(ms: number | undefined, log: BuildLog, signal: AbortSignal): Promise<void> {
  if (!ms) return;
  log.log("info", `pausing ${ms / 1000} s before starting`);
  await sleep(ms, signal);
}

/** Thrown when a step ran longer than its timeout. */
export class StepTimeoutError extends Error {
  override name = "StepTimeoutError";
}

/**
 * Runs `work` with a signal that also fires after `timeoutMs`; a timeout becomes a
 * `StepTimeoutError` naming `what`, while the outer abort stays an abort.
 */
export async function withTimeout<T>(timeoutMs: number | undefined, what: string, signal: AbortSignal, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  if (!timeoutMs) return work(signal);
  const timer = new AbortController();
  const timeoutError = new StepTimeoutError(`${what} ran longer than its timeout of ${timeoutMs / 1000} s and was stopped`);
  const handle = setTimeout(() => timer.abort(timeoutError), timeoutMs);
  try {
    return await work(AbortSignal.any([signal, timer.signal]));
  } catch (err) {
    if (timer.signal.aborted && !signal.aborted) throw timeoutError;
    throw err;
  } finally {
    clearTimeout(handle);
  }
}

/** Output callbacks that send a command's stdout/stderr to the node's log as text. */
export function outputTo(log: BuildLog): Pick<RemoteCommand, "onStdout" | "onStderr"> {
  return {
    onStdout: (d) => log.output("stdout", d.toString("utf8")),
    onStderr: (d) => log.output("stderr", d.toString("utf8")),
  };
}

/** Checks `validExitCodes`. */
export function exitCodesOf(value: readonly number[] | undefined): readonly number[] {
  if (value === undefined) return [0];
  if (!Array.isArray(value) || value.some((c) => !Number.isInteger(c))) throw new Error(`validExitCodes must be a list of integers, got ${JSON.stringify(value)}`);
  return value;
}

/** Checks a string-valued env map (values resolved). */
export function envOf(value: unknown, what: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new Error(`${what} must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") throw new Error(`${what}.${k} must be a string, got ${JSON.stringify(v)}`);
    out[k] = String(v);
  }
  return out;
}
