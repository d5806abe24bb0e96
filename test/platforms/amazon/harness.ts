/**
 * Test rig for the Amazon drivers: a real sshd, the EC2 (and S3) simulators wired to it, and a
 * runner that drives a driver's steps directly (createContext, steps in order with the
 * provisioners at PROVISION, cleanups in reverse through the runtime's `runSteps`).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GraphNode } from "../../../compiler/ir.js";
import { runSteps, type RunStepsResult } from "../../../runtime/steps.js";
import { PROVISION, type ArtifactRecord, type BuildLog, type Communicator, type DriverEnv, type LiveResource, type PlatformDriver, type Step } from "../../../runtime/types.js";
import { startEc2Simulator, type Ec2Simulator, type Ec2SimulatorOptions } from "../../simulators/ec2/server.js";
import { startS3Simulator, type S3Simulator } from "../../simulators/s3/server.js";
import { startSshd, type TestSshd } from "../../support/sshd.js";

/** What a test gets. */
export interface Rig {
  readonly sshd: TestSshd;
  readonly ec2: Ec2Simulator;
  readonly s3: S3Simulator;
  /**
   * The user builds log in as: a throwaway system user with /bin/sh, so a login does not run
   * root's interactive shell setup (on some machines that alone takes a minute).
   */
  readonly user: string;
  /** Available public Debian-like AMIs per region. */
  readonly baseAmi: Record<string, string>;
  stop(): Promise<void>;
}

export const REGION = "eu-west-1";
export const OTHER = "us-east-1";
export const THIRD = "ap-southeast-2";

/** Starts sshd + simulators, with base AMIs in three regions. */
export async function startRig(simOptions: Partial<Ec2SimulatorOptions> = {}): Promise<Rig> {
  const sshd = await startSshd();
  const user = `imgcaws${randomBytes(3).toString("hex")}`;
  const home = join(sshd.dir, "home");
  // "*": no password, yet not locked (sshd refuses every login of a locked account).
  execFileSync("useradd", ["-m", "-d", home, "-s", "/bin/sh", "-p", "*", user]);
  // sshd reads authorized_keys as the user logging in.
  chmodSync(sshd.dir, 0o755);
  chmodSync(join(sshd.dir, "authorized_keys"), 0o644);
  const s3 = await startS3Simulator();
  const ec2 = await startEc2Simulator({ authorizedKeysFile: join(sshd.dir, "authorized_keys"), s3, ...simOptions });
  const baseAmi: Record<string, string> = {};
  for (const r of [REGION, OTHER, THIRD]) baseAmi[r] = ec2.seedImage(r, { name: "debian-12-amd64-20260101" }).id;
  return {
    sshd,
    user,
    ec2,
    s3,
    baseAmi,
    async stop() {
      await ec2.close();
      await s3.close();
      execFileSync("userdel", ["-f", user]);
      await sshd.stop();
    },
  };
}

/** Options every test build shares: the simulators' endpoints, static keys, fast polls. */
export function baseOptions(rig: Rig, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    region: REGION,
    sourceAmi: rig.baseAmi[REGION],
    instanceType: "t3.micro",
    amiName: `web-${Math.random().toString(36).slice(2, 8)}`,
    ssh: { username: rig.user, port: rig.sshd.port, timeout: "20s", keepaliveInterval: "1s" },
    endpoints: { ec2: rig.ec2.endpoint, sts: rig.ec2.endpoint, s3: rig.s3.endpoint },
    accessKey: "AKIDIMGCTEST",
    secretKey: "imgc-test-secret-key-value",
    builderAddressUrl: `${rig.ec2.endpoint}/checkip`,
    pollInterval: "20ms",
    waitTimeout: "10s",
    ...extra,
  };
}

/** A log that records everything. */
export class RecordingLog implements BuildLog {
  readonly lines: string[] = [];
  readonly outputs: string[] = [];
  readonly live = new Map<string, LiveResource>();
  log(level: string, message: string): void {
    this.lines.push(`${level}: ${message}`);
  }
  output(_stream: "stdout" | "stderr", chunk: string): void {
    this.outputs.push(chunk);
  }
  track(r: LiveResource): void {
    this.live.set(`${r.kind}:${r.id}`, r);
  }
  untrack(r: LiveResource): void {
    this.live.delete(`${r.kind}:${r.id}`);
  }
}

/** A graph node for a driver-level build. */
export function nodeFor(type: string, image = "web", source: GraphNode["source"] = { kind: "base" }): GraphNode {
  return {
    id: `${image}.${type}`,
    image,
    platform: type,
    type,
    driver: { module: "imgc/drivers/amazon", url: "", version: 1 },
    source,
    config: {},
    provision: [],
    post: [],
    deps: source.kind === "image" ? [source.node] : [],
    key: "sha256:test",
    keyParts: {},
    meta: { site: { file: "<test>", line: 0, column: 0 } },
  };
}

/** Everything a driver-level build needs. */
export interface BuildRun {
  readonly result: RunStepsResult;
  readonly artifact?: ArtifactRecord;
  readonly log: RecordingLog;
  readonly env: DriverEnv;
  readonly redacted: string[];
}

/** Runs a driver's steps directly; `provision` stands in for the provisioners. */
export async function runBuild(
  driver: PlatformDriver,
  options: Record<string, unknown>,
  opts: { node?: GraphNode; upstream?: Record<string, ArtifactRecord>; provision?: (comm: Communicator, signal: AbortSignal) => Promise<void>; signal?: AbortSignal; onStepStart?: (name: string) => void; onStepEnd?: (name: string) => void } = {},
): Promise<BuildRun> {
  const log = new RecordingLog();
  const redacted: string[] = [];
  const workDir = mkdtempSync(join(tmpdir(), "imgc-amazon-test-"));
  const env: DriverEnv = {
    resolved: { node: opts.node ?? nodeFor("amazon-ebs"), options: options as never, upstream: opts.upstream ?? {} },
    projectRoot: workDir,
    workDir,
    log,
    redact: (v) => redacted.push(v),
    facts: {},
    runId: "test-run",
  };
  try {
    const ctx = await driver.createContext(env);
    const signal = opts.signal ?? new AbortController().signal;
    const steps: Step<unknown>[] = driver.steps(ctx).map((s) =>
      s === PROVISION
        ? {
            name: "provision",
            async run(c: unknown, sig: AbortSignal) {
              const comm = driver.communicator(c);
              if (!comm) throw new Error("no communicator at PROVISION");
              await opts.provision?.(comm, sig);
            },
          }
        : (s as Step<unknown>),
    );
    const result = await runSteps(steps, ctx, {
      signal,
      ...(opts.onStepStart ? { onStepStart: opts.onStepStart } : {}),
      ...(opts.onStepEnd ? { onStepEnd: (name: string) => opts.onStepEnd!(name) } : {}),
    });
    const artifact = result.outcome === "ok" ? driver.artifact(ctx) : undefined;
    return { result, ...(artifact ? { artifact } : {}), log, env, redacted };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** Runs a command through a communicator and returns its stdout; throws on a non-zero exit. */
export async function sh(comm: Communicator, command: string, signal: AbortSignal): Promise<string> {
  let out = "";
  const r = await comm.exec({ command, onStdout: (c) => (out += c.toString()) }, signal);
  if (r.exitCode !== 0) throw new Error(`${command} exited ${r.exitCode}`);
  return out;
}
