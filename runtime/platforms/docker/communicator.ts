/**
 * The docker communicator: commands through one persistent shell session in the container
 * (session.ts; a plain `docker exec` per command where it cannot be used), small files through
 * that session, and bigger files and whole directories both ways as ONE tar stream each, never
 * a process or a call per file.
 */
import { basename, posix } from "node:path";
import type { Readable } from "node:stream";
import type { Communicator, RemoteCommand, RemoteResult, UploadOptions } from "../../types.js";
import { readFile, stat } from "node:fs/promises";
import type { DockerBackend } from "./backend.js";
import { EngineError } from "./engine-http.js";
import { ShellSession, writeFileScript } from "./session.js";
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
  /**
   * Run commands through one persistent shell in the container (session.ts) rather than one
   * exec each, and write small files through it. @default true when the backend can
   */
  readonly session?: boolean;
}

/** Files up to this size go through the shell session as here-documents; bigger ones as a tar. */
const SESSION_FILE_MAX = 256 * 1024;

/** What the session can do, probed once when it opens. */
interface OpenSession {
  readonly shell: ShellSession;
  /** The session runs as root and has `base64`: it can write any file. */
  readonly canWrite: boolean;
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

  private session?: Promise<OpenSession | undefined>;

  constructor(
    private readonly backend: DockerBackend,
    /** The build container's id. */
    readonly containerId: string,
    private readonly defaults: DockerCommDefaults = {},
  ) {}

  /** The shell session, opened on first use; `undefined` when unavailable (then plain execs). */
  private async shell(signal: AbortSignal): Promise<OpenSession | undefined> {
    if (this.defaults.session === false || !this.backend.openShell) return undefined;
    this.session ??= (async () => {
      try {
        const shell = new ShellSession(await this.backend.openShell!(this.containerId, { user: this.defaults.user }, signal));
        const probe = await shell.run({ script: 'command -v base64 >/dev/null 2>&1 && [ "$(id -u)" = 0 ]', wrap: true }, signal);
        return { shell, canWrite: probe === 0 };
      } catch (err) {
        if (signal.aborted) throw err;
        return undefined; // no /bin/sh to keep open, or the daemon refused: one exec per command
      }
    })();
    const open = await this.session;
    return open?.shell.usable ? open : undefined;
  }

  async exec(cmd: RemoteCommand, signal: AbortSignal): Promise<RemoteResult> {
    const env = { ...this.defaults.env, ...cmd.env };
    const user = cmd.user ?? this.defaults.user;
    // The session runs as the default user and has no stdin of its own to give a command.
    const open = cmd.stdin === undefined && user === this.defaults.user ? await this.shell(signal) : undefined;
    if (open) {
      const exitCode = await open.shell.run(
        { script: cmd.command, wrap: true, env, workdir: cmd.workdir ?? this.defaults.workdir, onStdout: cmd.onStdout, onStderr: cmd.onStderr },
        signal,
      );
      return { exitCode };
    }
    const exitCode = await this.backend.exec(
      this.containerId,
      {
        cmd: ["/bin/sh", "-c", cmd.command],
        env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
        user,
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
    const open = await this.shell(signal);
    const code = open?.canWrite
      ? await open.shell.run({ script: command, wrap: true, onStderr: (b) => err.push(b) }, signal)
      : await this.backend.exec(this.containerId, { cmd: ["/bin/sh", "-c", command], user: "0", onStderr: (b) => err.push(b) }, signal);
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
    const small = Buffer.isBuffer(bytes) ? bytes.length <= SESSION_FILE_MAX : (await stat(bytes)).size <= SESSION_FILE_MAX;
    const open = small ? await this.shell(signal) : undefined;
    if (open?.canWrite) {
      const data = Buffer.isBuffer(bytes) ? bytes : await readFile(bytes);
      const mode = options.mode ?? (Buffer.isBuffer(bytes) ? 0o644 : (await stat(bytes)).mode & 0o7777);
      const err: Buffer[] = [];
      const code = await open.shell.run({ script: writeFileScript(destination, data, mode), wrap: false, onStderr: (b) => err.push(b) }, signal);
      if (code !== 0) throw new Error(`writing ${destination} in the build container failed (exit ${code}): ${Buffer.concat(err).toString("utf8").trim()}`);
    } else {
      await this.copyInto(dir, () => packFile({ name, source: bytes, mode: options.mode }), signal);
    }
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
    const open = await this.session?.catch(() => undefined);
    open?.shell.close();
    this.session = undefined;
  }
}
