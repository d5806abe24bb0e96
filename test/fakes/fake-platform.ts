/**
 * A stateful in-process test platform ("fake"): a driver whose steps create and delete resources
 * in an in-memory backend, with fault injection (fail or abort at any step), gates that hold a
 * step until the test releases it, a concurrency gauge, an ordered event log and `live()`. The
 * runtime loads it through `node.driver.url` like any driver; tests reach the same backend
 * through `fakeBackend()` (kept on globalThis so both module instances share it).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Json } from "../../lang/values.js";
import type { IrStep, GraphNode, BuildGraph } from "../../compiler/ir.js";
import { PROVISION, type ArtifactRecord, type Communicator, type DriverEnv, type PlatformDriver, type ProvisionerImpl, type Step } from "../../runtime/types.js";

/** Options of the fake platform (a node's `config`). */
export interface FakeOptions {
  /** Text the build puts in its image (so tests can check resolved values). */
  readonly label?: string;
  /** Anything else, for resolve tests. */
  readonly [key: string]: Json | undefined;
}

interface Resource {
  readonly kind: "disk" | "machine" | "image";
  readonly id: string;
  readonly node: string;
  readonly label?: string;
}

/** The fake backend: resources, faults, gates and a log. */
export class FakeBackend {
  readonly resources = new Map<string, Resource>();
  readonly log: string[] = [];
  running = 0;
  maxRunning = 0;
  private seq = 0;
  /** step name (or `node:step`) → error to throw. */
  readonly failures = new Map<string, Error>();
  /** step name (or `node:step`) → called when the step starts (e.g. to abort the apply). */
  readonly onStart = new Map<string, () => void>();
  /** step name (or `node:step`) → a promise the step waits for. */
  readonly gates = new Map<string, Promise<void>>();
  /** Commands a provisioner ran, by node. */
  readonly commands = new Map<string, string[]>();

  reset(): void {
    this.resources.clear();
    this.log.length = 0;
    this.running = this.maxRunning = 0;
    this.failures.clear();
    this.onStart.clear();
    this.gates.clear();
    this.commands.clear();
  }
  create(kind: Resource["kind"], node: string, label?: string): string {
    const id = `${kind}-${++this.seq}`;
    this.resources.set(id, { kind, id, node, ...(label !== undefined ? { label } : {}) });
    this.log.push(`create ${kind} ${node}`);
    return id;
  }
  remove(id: string): void {
    const r = this.resources.get(id);
    if (r) this.log.push(`delete ${r.kind} ${r.node}`);
    this.resources.delete(id);
  }
  /** Resources a build leaves behind that are not artifacts (must be empty after any build). */
  live(): Resource[] {
    return [...this.resources.values()].filter((r) => r.kind !== "image");
  }
  images(): Resource[] {
    return [...this.resources.values()].filter((r) => r.kind === "image");
  }
  /** Runs the hooks of a step: onStart, gate, failure. */
  async hooks(node: string, step: string, signal: AbortSignal): Promise<void> {
    for (const key of [`${node}:${step}`, step]) this.onStart.get(key)?.();
    for (const key of [`${node}:${step}`, step]) {
      const gate = this.gates.get(key);
      if (gate) {
        await new Promise<void>((resolve, reject) => {
          const onAbort = (): void => reject(new Error(`${step} aborted`));
          if (signal.aborted) return onAbort();
          signal.addEventListener("abort", onAbort, { once: true });
          void gate.then(() => {
            signal.removeEventListener("abort", onAbort);
            resolve();
          });
        });
      }
    }
    // Yield, so cancellation and concurrency are observable.
    await new Promise((r) => setImmediate(r));
    signal.throwIfAborted();
    for (const key of [`${node}:${step}`, step]) {
      const err = this.failures.get(key);
      if (err) throw err;
    }
  }
}

/** The shared backend. */
export function fakeBackend(): FakeBackend {
  const key = Symbol.for("imgc.test.fakeBackend");
  const g = globalThis as Record<symbol, FakeBackend>;
  return (g[key] ??= new FakeBackend());
}

/** The context the fake's steps share. */
export interface FakeContext {
  readonly env: DriverEnv;
  readonly backend: FakeBackend;
  disk?: string;
  machine?: string;
  image?: string;
  files?: string[];
  comm?: Communicator;
}

/** The names of the fake's steps, in order (PROVISION sits between boot and snapshot). */
export const FAKE_STEPS = ["create-disk", "boot", "provision", "snapshot"] as const;

function step(name: string, run: (ctx: FakeContext) => void, cleanup?: (ctx: FakeContext, outcome: string) => void): Step<FakeContext> {
  return {
    name,
    async run(ctx, signal) {
      const node = ctx.env.resolved.node.id;
      ctx.backend.log.push(`run ${name} ${node}`);
      await ctx.backend.hooks(node, name, signal);
      run(ctx);
    },
    ...(cleanup
      ? {
          async cleanup(ctx: FakeContext, outcome: string) {
            ctx.backend.log.push(`cleanup ${name} ${ctx.env.resolved.node.id} ${outcome}`);
            cleanup(ctx, outcome);
          },
        }
      : {}),
  };
}

function fakeCommunicator(ctx: FakeContext): Communicator {
  const node = ctx.env.resolved.node.id;
  return {
    kind: "fake",
    async exec(cmd, signal) {
      await ctx.backend.hooks(node, "exec", signal);
      ctx.backend.commands.set(node, [...(ctx.backend.commands.get(node) ?? []), cmd.command]);
      const env = Object.entries(cmd.env ?? {}).map(([k, v]) => `${k}=${v}`).join(" ");
      cmd.onStdout?.(Buffer.from(`ran: ${cmd.command}${env ? ` with ${env}` : ""}\n`));
      return { exitCode: /\bfail\b/.test(cmd.command) ? 1 : 0 };
    },
    async upload() {},
    async uploadDir() {},
    async download() {},
    async downloadDir() {},
    async close() {},
  };
}

/** The fake driver. */
const driver: PlatformDriver<FakeOptions, FakeContext> = {
  type: "fake",
  version: 1,
  createContext: (env) => ({ env, backend: fakeBackend() }),
  steps: () => [
    step("create-disk", (ctx) => {
      ctx.backend.running++;
      ctx.backend.maxRunning = Math.max(ctx.backend.maxRunning, ctx.backend.running);
      ctx.disk = ctx.backend.create("disk", ctx.env.resolved.node.id);
      ctx.env.log.track({ kind: "disk", id: ctx.disk });
    }, (ctx) => {
      ctx.backend.running--;
      if (ctx.disk) {
        ctx.backend.remove(ctx.disk);
        ctx.env.log.untrack({ kind: "disk", id: ctx.disk });
        ctx.disk = undefined;
      }
    }),
    step("boot", (ctx) => {
      ctx.machine = ctx.backend.create("machine", ctx.env.resolved.node.id);
      ctx.env.log.track({ kind: "machine", id: ctx.machine });
      ctx.env.facts.host = "10.0.0.1";
      ctx.comm = fakeCommunicator(ctx);
    }, (ctx) => {
      if (ctx.machine) {
        ctx.backend.remove(ctx.machine);
        ctx.env.log.untrack({ kind: "machine", id: ctx.machine });
        ctx.machine = undefined;
      }
    }),
    PROVISION,
    step("snapshot", (ctx) => {
      const options = ctx.env.resolved.options as FakeOptions;
      ctx.image = ctx.backend.create("image", ctx.env.resolved.node.id, String(options.label ?? ""));
      // `files: { name: content }` makes an artifact with local files (for post-processor tests).
      if (options.files && typeof options.files === "object") {
        const dir = join(ctx.env.projectRoot, "fake-out", ctx.env.resolved.node.id);
        mkdirSync(dir, { recursive: true });
        ctx.files = Object.entries(options.files as Record<string, string>).map(([name, content]) => {
          writeFileSync(join(dir, name), content);
          return join(dir, name);
        });
      }
    }, (ctx, outcome) => {
      // Like the EBS builder's AMI: deleted only when the build did not succeed.
      if (outcome !== "ok" && ctx.image) {
        ctx.backend.remove(ctx.image);
        ctx.image = undefined;
      }
    }),
  ],
  communicator: (ctx) => ctx.comm,
  artifact: (ctx) =>
    ctx.image
      ? { node: ctx.env.resolved.node.id, platform: "fake", id: ctx.image, files: ctx.files ?? [], data: { label: String((ctx.env.resolved.options as FakeOptions).label ?? "") } }
      : undefined,
  async exists(artifact) {
    return fakeBackend().resources.has(artifact.id);
  },
  async destroy(artifact) {
    fakeBackend().remove(artifact.id);
  },
};
export default driver;

/** A provisioner for tests: runs `command` (a string option) through the communicator. */
export const fakeExec: ProvisionerImpl<{ command: string; env?: Record<string, string> }> = {
  type: "fake-exec",
  async run(options, ctx, signal) {
    const res = await ctx.comm.exec(
      {
        command: options.command,
        ...(options.env ? { env: options.env } : {}),
        onStdout: (b) => ctx.log.output("stdout", b.toString()),
      },
      signal,
    );
    if (res.exitCode !== 0) throw new Error(`command exited with ${res.exitCode}`);
  },
};

const site = { file: "<test>", line: 1, column: 1 };
const driverUrl = new URL("./fake-platform.ts", import.meta.url).href;

/** A hand-written graph node of the fake platform. */
export function fakeNode(id: string, init: { deps?: string[]; config?: Json; provision?: IrStep[]; post?: IrStep[]; key?: string; keyParts?: Record<string, string>; errorCleanup?: IrStep } = {}): GraphNode {
  const [image, platform = "fake"] = id.split(".");
  const keyParts = init.keyParts ?? { config: "c1" };
  return {
    id,
    image: image!,
    platform,
    type: "fake",
    driver: { module: "fake", url: driverUrl, version: 1 },
    source: init.deps?.length ? { kind: "image", node: init.deps[0]! } : { kind: "base" },
    config: init.config ?? {},
    provision: init.provision ?? [],
    ...(init.errorCleanup ? { errorCleanup: init.errorCleanup } : {}),
    post: init.post ?? [],
    deps: init.deps ?? [],
    key: init.key ?? `sha256:${id}:${JSON.stringify(keyParts)}`,
    keyParts,
    meta: { site },
  };
}

/** A provisioner step of the fake. */
export function execStep(command: string, env?: Record<string, Json>): IrStep {
  return { type: "fake-exec", options: { command, ...(env ? { env } : {}) }, site };
}

/** A post-processor step. */
export function postStep(type: string, options: Json): IrStep {
  return { type, options, site };
}

/** A graph of fake nodes. */
export function fakeGraph(root: string, nodes: GraphNode[]): BuildGraph {
  return { irVersion: 1, project: { file: `${root}/images.ts`, root }, variables: {}, secrets: [], keyedSecrets: [], nodes };
}

export type { ArtifactRecord };
