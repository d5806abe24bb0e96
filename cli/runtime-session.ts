/**
 * What the runtime commands (apply, destroy) share: the redactor filled with the compiler's
 * sensitive values, the event bus with the chosen renderer, signal handling, live resources,
 * the `--on-error=ask` prompt, and the state flags.
 */
import type { Argv } from "yargs";
import type { CompileResult } from "../compiler/compile.js";
import { EventBus } from "../runtime/events.js";
import { LiveResources } from "../runtime/node-log.js";
import { Redactor } from "../runtime/redact.js";
import { attachRenderer, pickRenderer } from "../runtime/render/index.js";
import type { SecretSource } from "../runtime/resolve.js";
import { handleSignals } from "../runtime/signals.js";
import type { AskChoice } from "../runtime/steps.js";
import type { Json } from "../lang/values.js";
import type { Cli, GlobalArgs } from "./command.js";

/** Flags of commands that use the state. */
export interface StateFlags {
  /** `--state PATH`. */
  readonly state?: string;
  /** `--lock-timeout 30s`. */
  readonly lockTimeout?: string;
}

/** Adds --state and --lock-timeout. */
export function stateFlags(y: Argv): Argv {
  return y
    .option("state", { type: "string", describe: "The state file (default: .imgc/state.json beside the definitions)", requiresArg: true })
    .option("lock-timeout", { type: "string", default: "0s", describe: "How long to wait for another apply's state lock, e.g. 30s or 5m" });
}

/** A runtime command's session. */
export interface RuntimeSession {
  readonly bus: EventBus;
  readonly redactor: Redactor;
  readonly live: LiveResources;
  readonly signal: AbortSignal;
  readonly secrets: SecretSource;
  readonly ask: (node: string, step: string, error: Error) => Promise<AskChoice>;
  close(): void;
}

/** Sets up redaction, rendering and signals for one command. */
export function runtimeSession(args: GlobalArgs, compiled?: CompileResult): RuntimeSession {
  const redactor = new Redactor();
  const values: Record<string, Json> = {};
  if (compiled) {
    for (const [k, v] of Object.entries(compiled.sensitiveValues.vars)) values[k] = v;
    for (const [k, v] of Object.entries(compiled.sensitiveValues.secrets)) values[k] = v;
  }
  // Known values are registered at once, before anything can print them.
  for (const v of Object.values(values)) registerAll(v, redactor);
  const bus = new EventBus(redactor);
  const mode = pickRenderer({ json: args.json ?? false });
  const detach = attachRenderer(bus, mode, process.stdout, { debug: args.debug ?? false });
  const controller = new AbortController();
  const live = new LiveResources();
  const unsignal = handleSignals({ controller, bus, live });
  return {
    bus,
    redactor,
    live,
    signal: controller.signal,
    secrets: { values, env: process.env },
    ask: (node, step, error) => askOnError(node, step, error, mode === "json"),
    close() {
      unsignal();
      detach();
    },
  };
}

function registerAll(v: Json, redactor: Redactor): void {
  if (typeof v === "string") redactor.add(v);
  else if (typeof v === "number" || typeof v === "boolean") redactor.add(String(v));
  else if (Array.isArray(v)) v.forEach((x) => registerAll(x as Json, redactor));
  else if (v && typeof v === "object") Object.values(v).forEach((x) => registerAll(x, redactor));
}

// One prompt at a time: parallel nodes that fail together queue up.
let asking: Promise<unknown> = Promise.resolve();

async function askOnError(node: string, step: string, error: Error, json: boolean): Promise<AskChoice> {
  if (!process.stdin.isTTY || process.env.CI || json) {
    process.stderr.write(`${node}: step ${step} failed; --on-error=ask needs an interactive terminal, cleaning up\n`);
    return "cleanup";
  }
  const prompt = async (): Promise<AskChoice> => {
    const { createInterface } = await import("node:readline/promises");
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      for (;;) {
        const answer = (await rl.question(`\n${node}: step ${step} failed: ${error.message}\n[c]lean up, [a]bort (keep resources), [r]etry the step? `)).trim().toLowerCase();
        if (answer === "c" || answer === "clean up" || answer === "cleanup") return "cleanup";
        if (answer === "a" || answer === "abort") return "abort";
        if (answer === "r" || answer === "retry") return "retry";
      }
    } finally {
      rl.close();
    }
  };
  const next = asking.then(prompt, prompt);
  asking = next.catch(() => {});
  return next;
}

/**
 * Turns a runtime error that escaped the apply (state unreadable, a bad --only glob) into one
 * redacted sentence and an exit code; compiler errors and bugs go to the CLI's own reporting.
 */
export async function runtimeFailure(error: unknown, session: RuntimeSession, cli: Cli): Promise<number> {
  const { StateError } = await import("../runtime/state/store.js");
  const { EXIT } = await import("../runtime/exit-codes.js");
  if (error instanceof StateError) {
    cli.err(`error: ${session.redactor.redact(error.message)}`);
    return EXIT.STATE;
  }
  if (error instanceof Error && / matches no node;/.test(error.message)) {
    cli.err(`error: ${session.redactor.redact(error.message)}`);
    return EXIT.USAGE;
  }
  if (error instanceof Error) {
    // Never let a secret out through an unexpected error either.
    error.message = session.redactor.redact(error.message);
    if (error.stack) error.stack = session.redactor.redact(error.stack);
  }
  throw error;
}
