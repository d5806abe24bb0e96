/**
 * Runs the docker driver's steps directly, as the runtime does (createContext, steps in order,
 * cleanups in reverse via runtime/steps.ts), with a test function standing in for PROVISION.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GraphNode } from "../../../compiler/ir.js";
import type { DockerContext } from "../../../runtime/platforms/docker/context.js";
import type { DockerOptions } from "../../../runtime/platforms/docker/factory.js";
import { runSteps, type RunStepsResult } from "../../../runtime/steps.js";
import { PROVISION, type ArtifactRecord, type Communicator, type DriverEnv, type LiveResource, type PlatformDriver, type Step } from "../../../runtime/types.js";

/** A node as the compiler would emit it, for `options`. */
export function testNode(id: string, options: DockerOptions, from?: string): GraphNode {
  return {
    id,
    image: id.split(".")[0]!,
    platform: "docker",
    type: "docker",
    driver: { module: "imgc/drivers/docker", url: "", version: 1 },
    source: from ? { kind: "image", node: from } : { kind: "base" },
    config: options as never,
    provision: [],
    post: [],
    deps: from ? [from] : [],
    key: `sha256:${id}`,
    keyParts: {},
    meta: { site: { file: "images.ts", line: 1, column: 1 } },
  };
}

/** A driver env that records logs and tracked resources. */
export function testEnv(node: GraphNode, upstream: Record<string, ArtifactRecord> = {}): DriverEnv & { tracked: Map<string, LiveResource>; lines: string[] } {
  const tracked = new Map<string, LiveResource>();
  const lines: string[] = [];
  return {
    resolved: { node, options: node.config, upstream },
    projectRoot: mkdtempSync(join(tmpdir(), "imgc-docker-test-")),
    workDir: mkdtempSync(join(tmpdir(), "imgc-docker-work-")),
    log: {
      log: (level, message) => void lines.push(`${level}: ${message}`),
      output: (_s, chunk) => void lines.push(chunk),
      track: (r) => void tracked.set(`${r.kind} ${r.id}`, r),
      untrack: (r) => void tracked.delete(`${r.kind} ${r.id}`),
    },
    redact: () => {},
    facts: {},
    runId: "test-run",
    tracked,
    lines,
  };
}

/** What `build` returns. */
export interface BuildResult {
  readonly result: RunStepsResult;
  readonly ctx: DockerContext;
  readonly artifact?: ArtifactRecord;
  /** Step names in the order they ran, then `cleanup <name>` in the order cleanups ran. */
  readonly trace: string[];
}

/** Runs the driver for `env`, with `provision` in place of PROVISION. */
export async function build(
  driver: PlatformDriver<DockerOptions, DockerContext>,
  env: DriverEnv,
  provision: (comm: Communicator, signal: AbortSignal) => Promise<void>,
  signal: AbortSignal = new AbortController().signal,
): Promise<BuildResult> {
  const ctx = await driver.createContext(env);
  const trace: string[] = [];
  const provisionStep: Step<DockerContext> = {
    name: "provision",
    async run(c, s) {
      await provision(driver.communicator(c)!, s);
    },
  };
  const steps = driver.steps(ctx).map((s) => (s === PROVISION ? provisionStep : s)) as Step<DockerContext>[];
  const traced = steps.map((s) => ({
    name: s.name,
    run: (c: DockerContext, sig: AbortSignal) => (trace.push(s.name), s.run(c, sig)),
    ...(s.cleanup ? { cleanup: (c: DockerContext, o: "ok" | "failed" | "cancelled") => (trace.push(`cleanup ${s.name}`), s.cleanup!(c, o)) } : {}),
  }));
  const result = await runSteps(traced, ctx, { signal });
  return { result, ctx, artifact: result.outcome === "ok" ? driver.artifact(ctx) : undefined, trace };
}
