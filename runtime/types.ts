/**
 * The runtime's contracts: what a platform driver (built-in or plugin) implements, the steps it
 * is made of, the communicator that carries provisioners into the machine, and the artifact it
 * leaves. Plugin authors import these from `imgc/runtime`.
 */
import type { Readable } from "node:stream";
import type { GraphNode } from "../compiler/ir.js";
import type { Json } from "../lang/values.js";

/** How a step list ended, given to every cleanup. */
export type Outcome = "ok" | "failed" | "cancelled";

/**
 * One step of a driver (Packer's multistep). `run` throws on failure. The runner calls
 * `cleanup` for every step whose `run` started, in reverse order, whatever the outcome; a
 * cleanup acts only on what the context says exists and is idempotent.
 */
export interface Step<C> {
  /** Shown in the UI as the node's current step. */
  readonly name: string;
  /** Does the work. Must honour `signal` in every await and child process. */
  run(ctx: C, signal: AbortSignal): Promise<void>;
  /** Undoes what `run` created (or leaves it when the outcome says so). */
  cleanup?(ctx: C, outcome: Outcome): Promise<void>;
}

/** A resource a build created and cleanup will remove; listed when `--on-error=abort` keeps it. */
export interface LiveResource {
  /** What it is, e.g. `container`, `instance`, `key pair`. */
  readonly kind: string;
  /** Its id. */
  readonly id: string;
  /** Where, e.g. a region. */
  readonly where?: string;
}

/** Levels of log lines a build emits. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** What a driver and its steps can tell the user. Every text passes through redaction. */
export interface BuildLog {
  /** A log line for this node. */
  log(level: LogLevel, message: string): void;
  /** Output of a command running in the machine (provisioners). */
  output(stream: "stdout" | "stderr", chunk: string): void;
  /** Register a resource that exists now (so abort can list it). */
  track(resource: LiveResource): void;
  /** Forget a resource that was removed. */
  untrack(resource: LiveResource): void;
}

/** A command to run in the machine. */
export interface RemoteCommand {
  /** The command line, run by the machine's shell (`/bin/sh -c`). */
  readonly command: string;
  /** Environment variables, passed safely (never spliced into the command by string concatenation). */
  readonly env?: Readonly<Record<string, string>>;
  /** User to run as, where the communicator can choose (docker exec). */
  readonly user?: string;
  /** Working directory, where the communicator can choose. */
  readonly workdir?: string;
  /** Data fed to the command's stdin. */
  readonly stdin?: Readable | Buffer | string;
  /** Receives stdout as it comes. */
  readonly onStdout?: (chunk: Buffer) => void;
  /** Receives stderr as it comes. */
  readonly onStderr?: (chunk: Buffer) => void;
}

/** The result of a remote command. */
export interface RemoteResult {
  /** The exit code; `null` when the connection dropped before the command ended. */
  readonly exitCode: number | null;
  /** True when the connection was lost while the command ran (a reboot). */
  readonly disconnected?: boolean;
}

/** Options of uploads. */
export interface UploadOptions {
  /** File mode to set, e.g. 0o755. @default the source file's mode (0o644 for buffers) */
  readonly mode?: number;
  /** Owner to set, `user[:group]`, where the communicator can. */
  readonly owner?: string;
}

/**
 * How provisioners reach the machine: run commands, move files and directories both ways.
 * Implementations: ssh (ssh2), docker (exec and tar streams), local (shellLocal), none.
 */
export interface Communicator {
  /** Its kind, for logs. */
  readonly kind: "ssh" | "docker" | "local" | "none" | (string & {});
  /** Runs a command; resolves when it ends, with its exit code. */
  exec(cmd: RemoteCommand, signal: AbortSignal): Promise<RemoteResult>;
  /** Writes one file on the machine from a local path, a stream or a buffer. */
  upload(destination: string, source: string | Readable | Buffer, options: UploadOptions, signal: AbortSignal): Promise<void>;
  /**
   * Copies a local directory. As rsync and Packer: `source` ending in `/` copies its contents
   * into `destination`; otherwise the directory itself is created inside `destination`.
   */
  uploadDir(destination: string, source: string, options: UploadOptions, signal: AbortSignal): Promise<void>;
  /** Copies one file from the machine to a local path. */
  download(source: string, destination: string, signal: AbortSignal): Promise<void>;
  /** Copies a directory from the machine to a local path. */
  downloadDir(source: string, destination: string, signal: AbortSignal): Promise<void>;
  /** Re-establishes the connection after an expected disconnect (reboot); waits for the machine. */
  reconnect?(signal: AbortSignal): Promise<void>;
  /** Closes the connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * What the build knows about its machine once it exists; templates read these as `build.*`
 * facts (Packer's generated data, typed).
 */
export interface BuildFacts {
  host?: string;
  port?: number;
  user?: string;
  instanceId?: string;
  httpIp?: string;
  httpPort?: number;
}

/** The record of a built artifact, kept in the state. Plain JSON so state round-trips. */
export interface ArtifactRecord<D extends Json = Json> {
  /** The node that made it, e.g. `web.docker`. */
  readonly node: string;
  /** The platform type, e.g. `docker`. */
  readonly platform: string;
  /** Its id: a Docker image id, an AMI id (of the first region), a disk path… */
  readonly id: string;
  /** Local files that make it up (disk images, tars), absolute paths. */
  readonly files: readonly string[];
  /** Per-platform data: regions → AMI ids, disk format and sha256, repo tags… */
  readonly data: D;
}

/** A node ready to build: the IR node with its config resolved (no `$ref` left but secrets' values in memory). */
export interface ResolvedNode<O = Json> {
  /** The node as compiled. */
  readonly node: GraphNode;
  /** The platform options with every lazy value resolved. */
  readonly options: O;
  /** Artifacts of the upstream nodes, by node id (for `source.kind === "image"`). */
  readonly upstream: Readonly<Record<string, ArtifactRecord>>;
}

/** What the runtime gives a driver for one build. */
export interface DriverEnv {
  /** The node being built, resolved. */
  readonly resolved: ResolvedNode;
  /** The project root (where `.imgc/` is): relative output paths resolve against it. */
  readonly projectRoot: string;
  /** A private scratch directory for this build, removed after it. */
  readonly workDir: string;
  /** Logging, output and resource tracking for this node. */
  readonly log: BuildLog;
  /** Registers a value that must never be shown (a generated password, a token). */
  readonly redact: (value: string) => void;
  /** The build's facts, filled by the driver's steps as they learn them. */
  readonly facts: BuildFacts;
  /** The apply's id (also the manifest's run uuid). */
  readonly runId: string;
}

/** What `exists` and `destroy` get: the artifact's node options when it is still defined. */
export interface ArtifactEnv<O = Json> {
  /** The project root (where `.imgc/` is). */
  readonly projectRoot: string;
  /** Logging for this node. */
  readonly log: BuildLog;
  /** The node's current resolved options, when the node is still in the definitions (endpoints, credentials). */
  readonly options?: O;
}

/**
 * Where, in a driver's step list, the runtime runs the image's provisioners (through
 * `driver.communicator(ctx)`), Packer's StepProvision. Put it where the machine is reachable.
 */
export const PROVISION: unique symbol = Symbol.for("imgc.provision") as never;

/**
 * A platform driver: the only part that knows its backend. The default export of the module
 * a `PlatformSpec.driver` names.
 */
export interface PlatformDriver<O = any, C = any> {
  /** The platform type it implements, e.g. `docker`. */
  readonly type: string;
  /** Must equal the factory's `version`; bump to invalidate old cache keys. */
  readonly version: number;
  /** How many nodes of this platform may build at once. @default no limit beyond --parallelism */
  readonly maxParallel?: number;
  /** Checks the backend is usable (daemon up, binary present, credentials valid) before any build. */
  preflight?(env: DriverEnv, signal: AbortSignal): Promise<void>;
  /** Makes the per-build context the steps share. */
  createContext(env: DriverEnv): C | Promise<C>;
  /**
   * The steps, in order, with `PROVISION` where the runtime runs the provisioners (once the
   * machine is reachable through `communicator(ctx)`).
   */
  steps(ctx: C): (Step<C> | typeof PROVISION)[];
  /** The communicator provisioners use, once the steps have made the machine reachable. */
  communicator(ctx: C): Communicator | undefined;
  /** The artifact, after every step succeeded; `undefined` when the build makes none (discard). */
  artifact(ctx: C): ArtifactRecord | undefined;
  /** True when the artifact still exists (the cache's check before calling a node up to date). */
  exists?(artifact: ArtifactRecord, env: ArtifactEnv<O>, signal: AbortSignal): Promise<boolean>;
  /** Deletes the artifact (`imgc destroy`). Deleting what is already gone is not an error. */
  destroy?(artifact: ArtifactRecord, env: ArtifactEnv<O>, signal: AbortSignal): Promise<void>;
}

/** What a provisioner implementation gets to do its work on one node. */
export interface ProvisionerContext {
  /** The machine's communicator (for shell-local: the local one). */
  readonly comm: Communicator;
  /** Logging and output for this node; everything passes through redaction. */
  readonly log: BuildLog;
  /** The node being built. */
  readonly node: GraphNode;
  /** The build's facts (host, port, user, instance id, HTTP server…). */
  readonly facts: BuildFacts;
  /** A private scratch directory for this build. */
  readonly workDir: string;
  /** The project root. */
  readonly projectRoot: string;
  /** Registers a value that must never be shown. */
  readonly redact: (value: string) => void;
  /** True when stdin is a TTY and not in CI (breakpoint waits only then). */
  readonly interactive: boolean;
}

/**
 * A provisioner implementation (`shell`, `file`, `shell-local`, `breakpoint`, or a plugin's).
 * `options` arrive resolved: no `$ref` left; local paths are `IrPath` objects (use `$path`).
 */
export interface ProvisionerImpl<O = any> {
  /** The provisioner type it implements. */
  readonly type: string;
  /** Runs it; throws an error whose message says what failed (exit code, file). */
  run(options: O, ctx: ProvisionerContext, signal: AbortSignal): Promise<void>;
}
