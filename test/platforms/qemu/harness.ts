/**
 * Drives the QEMU driver the way the runtime does, without the compiler: a DriverEnv for a
 * hand-made node, steps run in order with PROVISION replaced by a callback on the
 * communicator, and every started step's cleanup run in reverse with the outcome.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GraphNode } from "../../../compiler/ir.js";
import type { QemuContext } from "../../../runtime/platforms/qemu/context.js";
import type { QemuOptions } from "../../../runtime/platforms/qemu/factory.js";
import { PROVISION, type ArtifactRecord, type BuildFacts, type Communicator, type DriverEnv, type LiveResource, type Outcome, type PlatformDriver } from "../../../runtime/types.js";

/** What one driver run left. */
export interface RunResult {
  readonly ctx: QemuContext;
  readonly artifact?: ArtifactRecord;
  readonly error?: Error;
  readonly outcome: Outcome;
  readonly logs: string[];
  /** Resources tracked and not untracked at the end. */
  readonly live: LiveResource[];
  /** Step names in the order their cleanups ran. */
  readonly cleaned: string[];
  readonly workDir: string;
}

export interface RunArgs {
  readonly image: string;
  readonly options: QemuOptions;
  readonly projectRoot: string;
  readonly upstream?: { readonly node: string; readonly artifact: ArtifactRecord };
  readonly provision?: (comm: Communicator, ctx: QemuContext, signal: AbortSignal) => Promise<void>;
  readonly signal?: AbortSignal;
  /** Called with each step's name as it starts. */
  readonly onStep?: (name: string, ctx: QemuContext) => void;
}

export async function runDriver(driver: PlatformDriver<QemuOptions, QemuContext>, args: RunArgs): Promise<RunResult> {
  const workDir = await mkdtemp(join(tmpdir(), "imgc-qemu-test-"));
  const logs: string[] = [];
  const live = new Map<string, LiveResource>();
  const facts: BuildFacts = {};
  const node = {
    id: `${args.image}.qemu`,
    image: args.image,
    platform: "qemu",
    type: "qemu",
    driver: { module: "imgc/drivers/qemu", url: "", version: 1 },
    source: args.upstream ? { kind: "image", node: args.upstream.node } : { kind: "base" },
    config: {},
    provision: [],
    post: [],
    deps: args.upstream ? [args.upstream.node] : [],
    key: "sha256:test",
    keyParts: {},
    meta: { site: { file: join(args.projectRoot, "images.ts"), line: 1, column: 1 } },
  } as unknown as GraphNode;
  const env: DriverEnv = {
    resolved: { node, options: args.options as never, upstream: args.upstream ? { [args.upstream.node]: args.upstream.artifact } : {} },
    projectRoot: args.projectRoot,
    workDir,
    log: {
      log: (level, message) => logs.push(`${level}: ${message}`),
      output: (_s, chunk) => logs.push(`out: ${chunk.trimEnd()}`),
      track: (r) => live.set(`${r.kind}:${r.id}`, r),
      untrack: (r) => live.delete(`${r.kind}:${r.id}`),
    },
    redact: () => {},
    facts,
    runId: "test-run",
  };
  const signal = args.signal ?? new AbortController().signal;
  const ctx = (await driver.createContext(env)) as QemuContext;
  const steps = driver.steps(ctx);
  const started: { name: string; cleanup?: (c: QemuContext, o: Outcome) => Promise<void> }[] = [];
  const cleaned: string[] = [];
  let error: Error | undefined;
  let outcome: Outcome = "ok";
  try {
    for (const step of steps) {
      if (signal.aborted) throw new Error("cancelled");
      if (step === PROVISION) {
        started.push({ name: "provision" });
        args.onStep?.("provision", ctx);
        const comm = driver.communicator(ctx);
        if (args.provision) {
          if (!comm) throw new Error("no communicator for provisioning");
          await args.provision(comm, ctx, signal);
        }
        continue;
      }
      started.push(step);
      args.onStep?.(step.name, ctx);
      await step.run(ctx, signal);
    }
  } catch (e) {
    error = e as Error;
    outcome = signal.aborted ? "cancelled" : "failed";
  }
  for (const step of started.reverse()) {
    cleaned.push(step.name);
    try {
      await step.cleanup?.(ctx, outcome);
    } catch (e) {
      error ??= e as Error;
    }
  }
  const artifact = outcome === "ok" ? driver.artifact(ctx) : undefined;
  const result: RunResult = { ctx, artifact, error, outcome, logs, live: [...live.values()], cleaned, workDir };
  return result;
}

/** Removes a run's scratch directory (the runtime does this after a build). */
export async function removeWorkDir(r: RunResult): Promise<void> {
  await rm(r.workDir, { recursive: true, force: true });
}

/** True when a process with this pid exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs a command over the communicator and returns its stdout (throws on a non-zero exit, or
 * when no exit status came back). The exit status is the communicator's own: these tests check
 * it too. (An earlier version carried it in-band because the SSH communicator lost the
 * exit-status of commands that ended within the packet burst that opened their channel; the
 * communicator reads it from the channel now: 300 short commands against dropbear, 300 right.)
 */
export async function sh(comm: Communicator, command: string, signal: AbortSignal = new AbortController().signal): Promise<string> {
  let out = "";
  let err = "";
  const r = await comm.exec({ command, onStdout: (b) => (out += b.toString()), onStderr: (b) => (err += b.toString()) }, signal);
  if (r.exitCode !== 0) throw new Error(`\`${command}\` exited with ${r.exitCode ?? "no exit status"}: ${err.trim()}`);
  return out;
}
