/**
 * The docker communicator: commands through `docker exec` (Engine API, one socket), files and
 * whole directories both ways as ONE tar stream each, never a process or a call per file.
 */
import { basename, posix } from "node:path";
import type { Readable } from "node:stream";
import type { Communicator, RemoteCommand, RemoteResult, UploadOptions } from "../../types.js";
import type { DockerBackend } from "./backend.js";
import { EngineError } from "./engine-http.js";
import { extractFirstFile, extractTree, packDirectory, packFile } from "./tar.js";

/** Defaults of every command, from the platform options. */
export interface DockerCommDefaults {
  /** `docker exec --user`. */
  readonly user?: string;
  /** `docker exec --workdir`. */
  readonly workdir?: string;
  /** Environment of every command (the build's `env`); a command's own `env` wins. */
  readonly env?: Readonly<Record<string, string>>;
  /** Re-own uploads to `user` when it is not root. @default true */
  readonly fixUploadOwner?: boolean;
}

/** Quotes a word for `/bin/sh`. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(chunks);
}

/** A `Communicator` into one running container. */
export class DockerCommunicator implements Communicator {
  readonly kind = "docker" as const;

  constructor(
    private readonly backend: DockerBackend,
    /** The build container's id. */
    readonly containerId: string,
    private readonly defaults: DockerCommDefaults = {},
  ) {}

  async exec(cmd: RemoteCommand, signal: AbortSignal): Promise<RemoteResult> {
    const exitCode = await this.backend.exec(
      this.containerId,
      {
        cmd: ["/bin/sh", "-c", cmd.command],
        env: Object.entries({ ...this.defaults.env, ...cmd.env }).map(([k, v]) => `${k}=${v}`),
        user: cmd.user ?? this.defaults.user,
        workdir: cmd.workdir ?? this.defaults.workdir,
        stdin: cmd.stdin,
        onStdout: cmd.onStdout,
        onStderr: cmd.onStderr,
      },
      signal,
    );
    return { exitCode };
  }

  /** Runs a helper command as root; throws with its stderr when it fails. */
  private async run(command: string, signal: AbortSignal): Promise<void> {
    const err: Buffer[] = [];
    const code = await this.backend.exec(this.containerId, { cmd: ["/bin/sh", "-c", command], user: "0", onStderr: (b) => err.push(b) }, signal);
    if (code !== 0) throw new Error(`\`${command}\` failed in the build container (exit ${code}): ${Buffer.concat(err).toString("utf8").trim()}`);
  }

  /**
   * Extracts a tar into `dir`; when `dir` does not exist yet, creates it (one extra exec, only
   * then) and extracts again. `makeTar` is called per attempt: a stream is read once.
   */
  private async copyInto(dir: string, makeTar: () => Readable, signal: AbortSignal): Promise<void> {
    try {
      await this.backend.copyIn(this.containerId, dir, makeTar(), signal);
    } catch (err) {
      if (!(err instanceof EngineError && err.status === 404)) throw err;
      await this.run(`mkdir -p ${shellQuote(dir)}`, signal);
      await this.backend.copyIn(this.containerId, dir, makeTar(), signal);
    }
  }

  /** Re-owns uploaded paths to `owner`, or to the exec user when it is not root. */
  private async fixOwner(paths: readonly string[], owner: string | undefined, signal: AbortSignal): Promise<void> {
    const user = owner ?? (this.defaults.fixUploadOwner === false ? undefined : this.defaults.user);
    if (!user || user === "root" || user === "0" || user.startsWith("0:") || user.startsWith("root:")) return;
    const spec = user.includes(":") ? user : `${user}:`;
    await this.run(`chown -R ${shellQuote(spec)} ${paths.map(shellQuote).join(" ")}`, signal);
  }

  async upload(destination: string, source: string | Readable | Buffer, options: UploadOptions, signal: AbortSignal): Promise<void> {
    const dir = posix.dirname(destination);
    const name = posix.basename(destination);
    // A stream is read once: keep its bytes so the tar can be rebuilt on the retry path.
    const bytes = typeof source === "string" || Buffer.isBuffer(source) ? source : await collect(source);
    await this.copyInto(dir, () => packFile({ name, source: bytes, mode: options.mode }), signal);
    await this.fixOwner([destination], options.owner, signal);
  }

  async uploadDir(destination: string, source: string, options: UploadOptions, signal: AbortSignal): Promise<void> {
    const contents = source.endsWith("/");
    const prefix = contents ? "" : `${basename(source.replace(/\/+$/, ""))}/`;
    await this.copyInto(destination, () => packDirectory(source, prefix, options.mode), signal);
    await this.fixOwner([contents ? destination : posix.join(destination, prefix)], options.owner, signal);
  }

  async download(source: string, destination: string, signal: AbortSignal): Promise<void> {
    await extractFirstFile(await this.backend.copyOut(this.containerId, source, signal), destination, source);
  }

  async downloadDir(source: string, destination: string, signal: AbortSignal): Promise<void> {
    await extractTree(await this.backend.copyOut(this.containerId, source.replace(/\/+$/, "") || "/", signal), destination);
  }

  async close(): Promise<void> {
    // Nothing held open: the Engine API connections are pooled by the backend.
  }
}
