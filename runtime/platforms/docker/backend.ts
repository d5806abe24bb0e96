/**
 * The narrow seam between the docker driver's steps and the Docker engine, in domain verbs.
 * Steps, the communicator and the docker post-processors see only this interface; the real
 * implementation (`backend-engine.ts`) talks to dockerd's Engine API, and a stateful fake
 * (`test/fakes/docker-backend.ts`) implements it in memory for failure-path tests. Every method
 * takes plain data and an optional `AbortSignal`.
 */
import type { Readable } from "node:stream";

/** The engine's version, from the preflight. */
export interface EngineVersion {
  /** Server version, e.g. `20.10.24`. */
  readonly version: string;
  /** Engine API version, e.g. `1.41`. */
  readonly apiVersion: string;
  /** `linux` or `windows`. */
  readonly os: string;
  /** Server architecture, e.g. `amd64`. */
  readonly arch: string;
}

/** Credentials for a registry, resolved (secrets in clear, in memory only). */
export interface RegistryCredentials {
  /** Registry host[:port]. */
  readonly server: string;
  /** User name. */
  readonly username: string;
  /** Password or token. Never logged. */
  readonly password: string;
}

/** The image config fields imgc reads and `commit` changes can set. */
export interface ImageConfig {
  readonly env: readonly string[];
  readonly cmd: readonly string[] | null;
  readonly entrypoint: readonly string[] | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly exposedPorts: readonly string[];
  readonly user: string;
  readonly workdir: string;
  readonly volumes: readonly string[];
  readonly onBuild: readonly string[];
}

/** An image as the engine describes it. */
export interface ImageInfo {
  /** `sha256:…` image id. */
  readonly id: string;
  /** `repo:tag` names pointing at it. */
  readonly repoTags: readonly string[];
  /** `repo@sha256:…` digests (set once pushed or pulled). */
  readonly repoDigests: readonly string[];
  /** Its config. */
  readonly config: ImageConfig;
}

/** What to create a build container from. Plain data; no CLI flags. */
export interface ContainerSpec {
  /** Container name (unique); lets cleanup find a container whose create was interrupted. */
  readonly name?: string;
  /** Image reference or id. */
  readonly image: string;
  /** Labels; imgc always sets `imgc.build` so leftovers can be found. */
  readonly labels: Readonly<Record<string, string>>;
  /** Entrypoint override (`[]` clears the image's). */
  readonly entrypoint?: readonly string[];
  /** The command that keeps the container alive. */
  readonly cmd: readonly string[];
  /** Allocate a TTY and keep stdin open, so `/bin/sh` waits forever. */
  readonly tty: boolean;
  /** Container environment, `KEY=value`. */
  readonly env?: readonly string[];
  /** Bind mounts, `host:container[:opts]`. */
  readonly binds?: readonly string[];
  readonly privileged?: boolean;
  readonly capAdd?: readonly string[];
  readonly capDrop?: readonly string[];
  /** Network mode, e.g. `none`, `host`. */
  readonly network?: string;
  /** Platform, e.g. `linux/arm64`. */
  readonly platform?: string;
  /** Container user (the default user of execs). */
  readonly user?: string;
  /** Container working directory. */
  readonly workdir?: string;
  /** Further settings from `runArgs`, already parsed into HostConfig/Config fields. */
  readonly extra?: ContainerExtra;
}

/** Settings reachable only through `runArgs` (parsed, never passed as raw CLI arguments). */
export interface ContainerExtra {
  readonly hostname?: string;
  readonly shmSize?: number;
  readonly memory?: number;
  readonly nanoCpus?: number;
  readonly tmpfs?: Readonly<Record<string, string>>;
  readonly extraHosts?: readonly string[];
  readonly devices?: readonly string[];
  readonly securityOpt?: readonly string[];
  readonly ulimits?: readonly { readonly name: string; readonly soft: number; readonly hard: number }[];
  readonly init?: boolean;
  readonly dns?: readonly string[];
  readonly sysctls?: Readonly<Record<string, string>>;
}

/** A container as the engine describes it. */
export interface ContainerInfo {
  readonly id: string;
  readonly image: string;
  readonly running: boolean;
  readonly labels: Readonly<Record<string, string>>;
}

/** A command run inside a container. */
export interface ExecSpec {
  /** argv, run directly (use `["/bin/sh", "-c", line]` for a shell line). */
  readonly cmd: readonly string[];
  /** Extra environment, `KEY=value` (passed as data, never spliced into a command line). */
  readonly env?: readonly string[];
  readonly user?: string;
  readonly workdir?: string;
  /** Fed to the command's stdin, then closed. */
  readonly stdin?: Readable | Buffer | string;
  /** Output as it comes. */
  readonly onStdout?: (chunk: Buffer) => void;
  readonly onStderr?: (chunk: Buffer) => void;
}

/** A long-lived shell's stdin and its demultiplexed output (see session.ts). */
export interface ShellChannel {
  /** Writes to the shell's stdin. */
  write(data: Buffer): void;
  /** Receives its output. One listener. */
  onData(listener: (stream: "stdout" | "stderr", chunk: Buffer) => void): void;
  /** Settles when the shell's streams end. */
  readonly closed: Promise<void>;
  /** Closes the connection (the shell gets EOF, or dies with the container). */
  destroy(): void;
  /** Whether a command is in flight: only then does the connection keep the process alive. */
  setBusy(busy: boolean): void;
}

/** Options of `commit`. */
export interface CommitSpec {
  /** Dockerfile instructions applied to the image config (`docker commit --change`). */
  readonly changes: readonly string[];
  readonly message?: string;
  readonly author?: string;
}

/** Options of `importImage`. */
export interface ImportSpec {
  /** `repo[:tag]` to name the imported image. */
  readonly reference?: string;
  /** Dockerfile instructions applied to the image config. */
  readonly changes?: readonly string[];
  readonly message?: string;
  readonly platform?: string;
}

/** The Docker engine, as imgc uses it. */
export interface DockerBackend {
  /** The engine's version; throws a clear error when no daemon answers. */
  version(signal?: AbortSignal): Promise<EngineVersion>;
  /** The image, or `undefined` when the reference or id is unknown. */
  inspectImage(ref: string, signal?: AbortSignal): Promise<ImageInfo | undefined>;
  /** Ids of the images carrying `label` (`key=value`). */
  listImages(label: string, signal?: AbortSignal): Promise<string[]>;
  /** Pulls `ref` (with credentials when given); resolves when the pull completed. */
  pull(ref: string, options: { auth?: RegistryCredentials; platform?: string }, signal?: AbortSignal): Promise<void>;
  /** Creates a container (not started); returns its id. */
  createContainer(spec: ContainerSpec, signal?: AbortSignal): Promise<string>;
  /** Starts a created container. */
  startContainer(id: string, signal?: AbortSignal): Promise<void>;
  /** The container, or `undefined` when it does not exist. */
  inspectContainer(id: string, signal?: AbortSignal): Promise<ContainerInfo | undefined>;
  /** Ids of the containers (running or not) carrying `label` (`key` or `key=value`). */
  listContainers(label: string, signal?: AbortSignal): Promise<string[]>;
  /** Runs a command in a running container, streaming its output; resolves with its exit code. */
  exec(id: string, spec: ExecSpec, signal?: AbortSignal): Promise<number>;
  /**
   * Starts `/bin/sh` in a running container with stdin attached, for a command session.
   * Optional: a backend without it (the fake) gets one exec per command.
   */
  openShell?(id: string, options: { user?: string }, signal?: AbortSignal): Promise<ShellChannel>;
  /** Extracts a tar stream into directory `dir` of the container. */
  copyIn(id: string, dir: string, tar: Readable, signal?: AbortSignal): Promise<void>;
  /** A tar stream of `path` in the container (its last path element is the tar's top entry). */
  copyOut(id: string, path: string, signal?: AbortSignal): Promise<Readable>;
  /** Commits the container to an image; returns the image id. */
  commit(id: string, spec: CommitSpec, signal?: AbortSignal): Promise<string>;
  /** A tar stream of the container's whole filesystem. */
  exportContainer(id: string, signal?: AbortSignal): Promise<Readable>;
  /** Removes a container (force, with its anonymous volumes). Removing a missing one is not an error. */
  removeContainer(id: string, signal?: AbortSignal): Promise<void>;
  /** Points `repo:tag` at an image. */
  tag(image: string, repo: string, tag: string, signal?: AbortSignal): Promise<void>;
  /** Checks credentials with the registry (`docker login`); throws when refused. */
  login(auth: RegistryCredentials, signal?: AbortSignal): Promise<void>;
  /** Pushes `repo:tag`; returns the pushed manifest digest when the engine reports one. */
  push(ref: string, options: { auth?: RegistryCredentials }, signal?: AbortSignal): Promise<string | undefined>;
  /** A `docker save` tar stream of the images. */
  saveImages(refs: readonly string[], signal?: AbortSignal): Promise<Readable>;
  /** Loads a `docker save` tar; returns the loaded image ids or references. */
  loadImages(tar: Readable, signal?: AbortSignal): Promise<string[]>;
  /** Imports a filesystem tar as an image (`docker import`); returns its id. */
  importImage(tar: Readable, spec: ImportSpec, signal?: AbortSignal): Promise<string>;
  /** Removes an image (untagging names, deleting the id). Removing a missing one is not an error. */
  removeImage(ref: string, options?: { force?: boolean }, signal?: AbortSignal): Promise<void>;
}

/** The label imgc puts on every build container; its value is the node id. */
export const BUILD_LABEL = "imgc.build";

/**
 * The label every committed image carries: the name of the build container that made it. It
 * lets cleanup find an image whose commit finished in the daemon after the build was
 * interrupted (or whose answer was lost), and tells users which build made an image.
 */
export const COMMIT_LABEL = "imgc.commit";
