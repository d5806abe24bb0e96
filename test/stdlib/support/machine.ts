/**
 * Runs stdlib components' provisioner specs for real in a local container, the way the runtime's
 * shell and file provisioners do (script uploaded to /tmp, run with `/bin/sh -e` and the spec's
 * environment; file content written then moved), without the compiler or `imgc apply`. This tests
 * the generated shell itself on real base images; the end-to-end test goes through `imgc apply`.
 * Only literal values are supported here (the runtime resolves lazy ones).
 */
import { execa } from "execa";
import { isAbsolute, resolve } from "node:path";
import { flattenProvision, type ProvisionInput, type ProvisionerSpec } from "../../../lang/provisioner.js";
import { isRef } from "../../../lang/values.js";
import type { LocalPath } from "../../../lang/path.js";

/**
 * The label every container of this test process carries, so a file's leak check finds its own
 * containers only (test files run in parallel, one process each).
 */
export const LABEL = `imgc.test.stdlib=${process.pid}`;

/** Result of one provisioner run. */
export interface StepResult {
  readonly type: string;
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running container that provisioners are applied to. */
export class Machine {
  private constructor(readonly id: string) {}

  /** Starts a container of `image` that idles until removed. `network` is `none` or `host` (apt). */
  static async start(image: string, network: "none" | "host" = "none"): Promise<Machine> {
    const { stdout } = await execa("docker", ["run", "-d", "--label", LABEL, "--network", network, image, "/bin/sh", "-c", "while :; do sleep 3600; done"]);
    return new Machine(stdout.trim());
  }

  /** Runs a command (argv) in the container as root. */
  async exec(argv: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<StepResult> {
    const envArgs = Object.entries(options.env ?? {}).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    const r = await execa("docker", ["exec", ...(options.input !== undefined ? ["-i"] : []), ...envArgs, this.id, ...argv], { reject: false, ...(options.input !== undefined ? { input: options.input } : {}) });
    return { type: "exec", exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
  }

  /** Runs `sh -c script` in the container. */
  sh(script: string): Promise<StepResult> {
    return this.exec(["/bin/sh", "-c", script]);
  }

  /** Applies provisioners in order; stops at the first failure (returned, not thrown). */
  async apply(...input: ProvisionInput[]): Promise<StepResult[]> {
    const results: StepResult[] = [];
    for (const spec of flattenProvision(input)) {
      const result = await this.run(spec);
      results.push(result);
      if (result.exitCode !== 0) break;
    }
    return results;
  }

  /** Applies and throws with the output when a step fails. */
  async applyOk(...input: ProvisionInput[]): Promise<StepResult[]> {
    const results = await this.apply(...input);
    const failed = results.find((r) => r.exitCode !== 0);
    if (failed) throw new Error(`${failed.type} step failed (exit ${failed.exitCode}):\n${failed.stdout}\n${failed.stderr}`);
    return results;
  }

  private async run(spec: ProvisionerSpec): Promise<StepResult> {
    const o = spec.options as Record<string, unknown>;
    if (spec.type === "shell") {
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries((o.env ?? {}) as Record<string, unknown>)) {
        if (isRef(v)) throw new Error(`this test harness only runs literal values; env ${k} is lazy`);
        env[k] = String(v);
      }
      const lines = o.inline as string[];
      const script = `#!/bin/sh -e\n${lines.join("\n")}\n`;
      const path = "/tmp/imgc-test-script.sh";
      const up = await this.exec(["/bin/sh", "-c", `cat > ${path} && chmod +x ${path}`], { input: script });
      if (up.exitCode !== 0) return { ...up, type: "shell" };
      const r = await this.exec(["/bin/sh", "-e", path], { env });
      await this.exec(["rm", "-f", path]);
      return { ...r, type: "shell" };
    }
    if (spec.type === "file" && o.direction === "content") {
      if (isRef(o.content)) throw new Error("this test harness only runs literal file content");
      const r = await this.exec(["/bin/sh", "-c", 'cat > "$1"', "sh", String(o.destination)], { input: String(o.content) });
      return { ...r, type: "file" };
    }
    if (spec.type === "file" && o.direction === "upload") {
      const src = o.source as LocalPath;
      const local = isAbsolute(src.path) ? src.path : resolve(src.base, src.path);
      const r = await execa("docker", ["cp", local, `${this.id}:${String(o.destination)}`], { reject: false });
      return { type: "file", exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
    }
    throw new Error(`this test harness cannot run ${spec.type} ${JSON.stringify(o.direction ?? "")}`);
  }

  /** Commits the container to an image (removed by `removeImages`). */
  async commit(): Promise<string> {
    const { stdout } = await execa("docker", ["commit", this.id]);
    return stdout.trim();
  }

  /** Removes the container. Idempotent. */
  async remove(): Promise<void> {
    await execa("docker", ["rm", "-f", this.id], { reject: false });
  }
}

/** `docker run --rm --network none image argv…`: a check from outside, in a fresh container. */
export async function runIn(image: string, argv: string[]): Promise<StepResult> {
  const r = await execa("docker", ["run", "--rm", "--label", LABEL, "--network", "none", image, ...argv], { reject: false });
  return { type: "run", exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Containers of these tests still present (should be none after a file's cleanup). */
export async function leftoverContainers(): Promise<string[]> {
  const { stdout } = await execa("docker", ["ps", "-aq", "--filter", `label=${LABEL}`]);
  return stdout.split("\n").filter(Boolean);
}

/** Removes committed images. */
export async function removeImages(ids: readonly string[]): Promise<void> {
  if (ids.length) await execa("docker", ["rmi", "-f", ...ids], { reject: false });
}
