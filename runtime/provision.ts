/**
 * The `PROVISION` marker of a driver's step list, made into a step: runs the node's
 * provisioners in order through the driver's communicator (Packer's StepProvision), resolving
 * each one's options just before it runs (so `build.host` and friends are known). Also runs the
 * image's errorCleanup provisioner for `--on-error=run-cleanup-provisioner`.
 */
import type { IrStep } from "../compiler/ir.js";
import { loadProvisioner } from "./provisioners/index.js";
import { resolveJson, type ResolveContext } from "./resolve.js";
import type { BuildLog, Communicator, DriverEnv, PlatformDriver, ProvisionerContext, Step } from "./types.js";

/** True when stdin is a terminal and we are not in CI (breakpoints wait only then). */
export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY) && !process.env.CI;
}

/** What running provisioners needs besides the driver's context. */
export interface ProvisionEnv {
  readonly env: DriverEnv;
  readonly resolve: ResolveContext;
  readonly log: BuildLog;
  /** Tells the UI which provisioner runs (the node's "current step"). */
  readonly onProvisioner?: (label: string) => void;
}

function label(step: IrStep, index: number): string {
  return `provision[${index}] ${step.type}`;
}

/** Runs one provisioner through `comm`. */
export async function runProvisioner(step: IrStep, index: number, comm: Communicator, penv: ProvisionEnv, signal: AbortSignal): Promise<void> {
  const impl = await loadProvisioner(step.type);
  const options = resolveJson(step.options, penv.resolve, `${label(step, index)} options`);
  const context: ProvisionerContext = {
    comm,
    log: penv.log,
    node: penv.env.resolved.node,
    facts: penv.env.facts,
    workDir: penv.env.workDir,
    projectRoot: penv.env.projectRoot,
    redact: penv.env.redact,
    interactive: isInteractive(),
  };
  await impl.run(options, context, signal);
}

/** The step that stands for `PROVISION` in a driver's list. */
export function provisionStep<C>(driver: PlatformDriver<unknown, C>, penv: ProvisionEnv): Step<C> {
  return {
    name: "provision",
    async run(ctx, signal) {
      const steps = penv.env.resolved.node.provision;
      if (steps.length === 0) return;
      const comm = driver.communicator(ctx);
      if (!comm) throw new Error(`the ${driver.type} platform gives no communicator, so its ${steps.length} provisioner(s) cannot run`);
      for (const [i, step] of steps.entries()) {
        signal.throwIfAborted();
        penv.onProvisioner?.(label(step, i));
        penv.log.log("info", `${label(step, i)}: start`);
        try {
          await runProvisioner(step, i, comm, penv, signal);
        } catch (error) {
          const e = error as Error;
          if (signal.aborted) throw e;
          const site = step.site && step.site.file !== "<unknown>" ? ` (${step.site.file}:${step.site.line}:${step.site.column})` : "";
          const wrapped = new Error(`${label(step, i)}${site} failed: ${e.message}`);
          (wrapped as Error & { cause?: unknown }).cause = e;
          throw wrapped;
        }
      }
    },
  };
}

/** Runs the node's errorCleanup provisioner, when it has one and the machine is reachable. */
export async function runErrorCleanup<C>(driver: PlatformDriver<unknown, C>, ctx: C, penv: ProvisionEnv, signal: AbortSignal): Promise<void> {
  const step = penv.env.resolved.node.errorCleanup;
  if (!step) {
    penv.log.log("info", "no errorCleanup provisioner is defined for this image");
    return;
  }
  let comm: Communicator | undefined;
  try {
    comm = driver.communicator(ctx);
  } catch {
    comm = undefined;
  }
  if (!comm) {
    penv.log.log("warn", "errorCleanup provisioner skipped: the machine is not reachable (the build failed before it was)");
    return;
  }
  penv.onProvisioner?.("errorCleanup");
  penv.log.log("info", `errorCleanup ${step.type}: start`);
  await runProvisioner(step, -1, comm, penv, signal);
}
