/**
 * The SSH communicator (ssh2): runs commands with env, moves files and directories both ways
 * (SFTP with many requests in flight; directories as one tar stream when the machine has tar),
 * survives an expected disconnect with `reconnect()`, and enforces the host key policy on every
 * connection it makes.
 */
import type { Client, ClientChannel, SFTPWrapper } from "ssh2";
import { stat } from "node:fs/promises";
import { posix } from "node:path";
import type { Duplex, Readable } from "node:stream";
import type { Communicator, RemoteCommand, RemoteResult, UploadOptions } from "../types.js";
import { connectSsh, hostKeyMemory, type HostKeyMemory, type SshConnectOptions, type SshSession } from "./ssh-connect.js";
import { getDirSftp, getFile, putData, putDirSftp, putFile, type TransferTuning } from "./sftp-transfer.js";
import { exportLines, shQuote } from "./shell-quote.js";
import { packDir, tarCommand, unpackTo, untarCommand } from "./tar-transfer.js";
import { destinationDir } from "./paths.js";

export type { SshConnectOptions } from "./ssh-connect.js";

/** Default request size: large requests mean fewer round trips; OpenSSH takes up to 255 KiB. */
const CHUNK_SIZE = 64 * 1024;

/** An SSH connection to the machine being built. Call `connect()` first. */
export class SshCommunicator implements Communicator {
  readonly kind = "ssh" as const;
  private session: SshSession | undefined;
  private sftpChannel: Promise<SFTPWrapper> | undefined;
  private hasTar: Promise<boolean> | undefined;
  private readonly keys: HostKeyMemory;
  /** Transfer tuning; tests and the bench change it. */
  tuning: TransferTuning;
  /** Use tar through an exec channel for directories when the machine has tar. @default true */
  tarForDirectories = true;

  constructor(readonly options: SshConnectOptions) {
    this.keys = hostKeyMemory(options);
    this.tuning = { concurrency: options.sftpConcurrency, chunkSize: CHUNK_SIZE, parallelFiles: 8 };
  }

  /** The host key fingerprint accepted for the machine (after `connect`). */
  get hostKeyFingerprint(): string | undefined {
    return this.keys.target.accepted;
  }

  /** True while the session is up. */
  get connected(): boolean {
    return this.session !== undefined;
  }

  /**
   * Waits for the machine and opens an authenticated session; `firstStream` is an open
   * connection to it that already showed the server's banner, tried first (see `connectSsh`).
   */
  async connect(signal: AbortSignal, firstStream?: Duplex): Promise<void> {
    if (this.session) return;
    const session = await connectSsh(this.options, this.keys, signal, firstStream);
    this.session = session;
    session.client.once("close", () => {
      if (this.session === session) this.forget();
      session.bastion?.end();
    });
    this.options.log?.("debug", `ssh session open to ${this.options.username}@${this.options.host}:${this.options.port}`);
  }

  /** Drops the old session (whatever state it is in) and waits for a new one. */
  async reconnect(signal: AbortSignal): Promise<void> {
    const old = this.session;
    this.forget();
    old?.client.end();
    old?.bastion?.end();
    this.options.log?.("info", `reconnecting to ${this.options.host}:${this.options.port}`);
    await this.connect(signal);
  }

  private forget(): void {
    this.session = undefined;
    this.sftpChannel = undefined;
    this.hasTar = undefined;
  }

  private client(): Client {
    if (!this.session) throw new Error(`no SSH session to ${this.options.host}:${this.options.port} (the connection was lost or never opened)`);
    return this.session.client;
  }

  private sftp(): Promise<SFTPWrapper> {
    if (!this.sftpChannel) {
      const client = this.client();
      const p = new Promise<SFTPWrapper>((resolve, reject) =>
        client.sftp((err, sftp) => (err ? reject(new Error(`could not start SFTP on ${this.options.host}:${this.options.port}: ${err.message} (is the sftp subsystem enabled in sshd_config?)`)) : resolve(sftp))),
      );
      p.catch(() => (this.sftpChannel = undefined));
      this.sftpChannel = p;
    }
    return this.sftpChannel;
  }

  /** Builds the remote shell line for a command (env exported with safe quoting, cd, sudo -u). */
  private commandLine(cmd: RemoteCommand): string {
    let line = cmd.command;
    if (cmd.workdir) line = `cd ${shQuote(cmd.workdir)} || exit 1\n${line}`;
    if (cmd.env && Object.keys(cmd.env).length > 0) line = exportLines(cmd.env) + line;
    if (cmd.user && cmd.user !== this.options.username) line = `sudo -n -E -u ${shQuote(cmd.user)} -- /bin/sh -c ${shQuote(line)}`;
    // OpenSSH ignores channel signal requests for most sessions, so the command reports its
    // process id first (on stderr, stripped before the caller sees it) for abort to kill it.
    return `printf '${PID_MARKER}%s\\n' "$$" >&2\n${line}`;
  }

  private openExec(line: string): Promise<ClientChannel> {
    const client = this.client();
    return new Promise((resolve, reject) =>
      client.exec(line, (err, stream) => (err ? reject(new Error(`could not start a command on ${this.options.host}:${this.options.port}: ${err.message}`)) : resolve(stream))),
    );
  }

  async exec(cmd: RemoteCommand, signal: AbortSignal): Promise<RemoteResult> {
    signal.throwIfAborted();
    const session = this.session;
    const stream = await this.openExec(this.commandLine(cmd));
    return new Promise<RemoteResult>((resolve, reject) => {
      let exitCode: number | null = null;
      let sawExit = false;
      let lost = false;
      const onClientClose = () => {
        lost = true;
        // The channel will not close by itself once its connection is gone.
        finish();
      };
      let pid: number | undefined;
      let stderrHead: Buffer | undefined = Buffer.alloc(0);
      const onAbort = () => {
        finished = true;
        cleanup();
        // Kill the command's process group on the far side, then drop the channel.
        const kill = pid
          ? this.exec({ command: `kill -9 -${pid} 2>/dev/null || kill -9 ${pid} 2>/dev/null; true` }, new AbortController().signal).catch(() => {})
          : Promise.resolve();
        void kill.finally(() => stream.close()).finally(() => reject(signal.reason));
      };
      const cleanup = () => {
        signal.removeEventListener("abort", onAbort);
        session?.client.off("close", onClientClose);
      };
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        cleanup();
        // A command that ends within the packet burst that opened its channel has its
        // exit-status parsed before the "exit" listener above exists; ssh2 keeps it on the channel.
        const early = (stream as unknown as { _exit?: { code?: number | null; signal?: string } })._exit;
        if (!sawExit && early && (early.code !== undefined || early.signal !== undefined)) {
          sawExit = true;
          exitCode = early.code ?? (early.signal ? 128 + (SIGNALS[early.signal.replace(/^SIG/, "")] ?? 0) : null);
        }
        resolve(sawExit ? { exitCode } : { exitCode: null, disconnected: lost || !this.session });
      };
      signal.addEventListener("abort", onAbort, { once: true });
      session?.client.once("close", onClientClose);
      stream.on("exit", (code: number | null, signalName?: string) => {
        sawExit = true;
        // A process killed by a signal reports like a shell does: 128 + signal number.
        exitCode = code ?? (signalName ? 128 + (SIGNALS[signalName.replace(/^SIG/, "")] ?? 0) : null);
      });
      stream.on("data", (d: Buffer) => cmd.onStdout?.(d));
      stream.stderr.on("data", (d: Buffer) => {
        if (stderrHead === undefined) return cmd.onStderr?.(d);
        stderrHead = Buffer.concat([stderrHead, d]);
        const nl = stderrHead.indexOf(10);
        if (nl < 0 && stderrHead.length < 64) return;
        const head = stderrHead.subarray(0, nl < 0 ? stderrHead.length : nl + 1);
        const m = new RegExp(`^${PID_MARKER}(\\d+)\\n$`).exec(head.toString("latin1"));
        const rest = m ? stderrHead.subarray(head.length) : stderrHead;
        if (m) pid = Number(m[1]);
        stderrHead = undefined;
        if (rest.length > 0) cmd.onStderr?.(rest);
      });
      stream.on("close", finish);
      stream.on("error", () => finish());
      if (cmd.stdin === undefined) stream.end();
      else if (typeof cmd.stdin === "string" || Buffer.isBuffer(cmd.stdin)) stream.end(cmd.stdin);
      else cmd.stdin.pipe(stream);
    });
  }

  /** Runs a command, collecting its output; throws with the output when it fails. */
  async run(command: string, signal: AbortSignal, stdin?: RemoteCommand["stdin"]): Promise<string> {
    let out = "";
    let err = "";
    const res = await this.exec({ command, ...(stdin !== undefined ? { stdin } : {}), onStdout: (d) => (out += d), onStderr: (d) => (err += d) }, signal);
    if (res.exitCode !== 0) throw new Error(`\`${command.split("\n")[0]}\` failed on ${this.options.host} (exit ${res.exitCode ?? "none: connection lost"}): ${err.trim() || out.trim()}`);
    return out;
  }

  /** Runs `op` on the SFTP channel, closing the channel if `signal` aborts (which fails `op`). */
  private async withSftp<T>(signal: AbortSignal, op: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    signal.throwIfAborted();
    const sftp = await this.sftp();
    const onAbort = () => {
      this.sftpChannel = undefined;
      sftp.end();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await op(sftp);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw err;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  private async chown(path: string, owner: string | undefined, recursive: boolean, signal: AbortSignal): Promise<void> {
    if (!owner) return;
    await this.run(`chown ${recursive ? "-R " : ""}${shQuote(owner)} ${shQuote(path)}`, signal);
  }

  async upload(destination: string, source: string | Readable | Buffer, options: UploadOptions, signal: AbortSignal): Promise<void> {
    await this.withSftp(signal, async (sftp) => {
      if (typeof source === "string") {
        const mode = options.mode ?? (await stat(source)).mode & 0o7777;
        await putFile(sftp, source, destination, mode, this.tuning);
      } else {
        await putData(sftp, source, destination, options.mode ?? 0o644, this.tuning);
      }
    });
    await this.chown(destination, options.owner, false, signal);
  }

  private machineHasTar(signal: AbortSignal): Promise<boolean> {
    this.hasTar ??= this.exec({ command: "command -v tar >/dev/null 2>&1" }, signal).then((r) => r.exitCode === 0);
    return this.hasTar;
  }

  async uploadDir(destination: string, source: string, options: UploadOptions, signal: AbortSignal): Promise<void> {
    const target = destinationDir(destination, source, posix.join);
    if (this.tarForDirectories && (await this.machineHasTar(signal))) {
      await this.run(untarCommand(shQuote(target)), signal, packDir(source));
    } else {
      await this.run(`mkdir -p ${shQuote(posix.dirname(target))}`, signal);
      await this.withSftp(signal, (sftp) => putDirSftp(sftp, source, target, this.tuning));
    }
    await this.chown(target, options.owner, true, signal);
  }

  async download(source: string, destination: string, signal: AbortSignal): Promise<void> {
    await this.withSftp(signal, (sftp) => getFile(sftp, source, destination, this.tuning));
  }

  async downloadDir(source: string, destination: string, signal: AbortSignal): Promise<void> {
    const target = destinationDir(destination, source, (a, b) => (a.endsWith("/") ? a + b : `${a}/${b}`));
    if (this.tarForDirectories && (await this.machineHasTar(signal))) {
      const stream = await this.openExec(tarCommand(shQuote(source)));
      let stderr = "";
      stream.stderr.on("data", (d: Buffer) => (stderr += d));
      const exit = new Promise<number | null>((res) => stream.on("exit", (code: number | null) => res(code)));
      const onAbort = () => stream.close();
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        stream.end();
        await unpackTo(stream, target);
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
      signal.throwIfAborted();
      const code = await exit;
      if (code !== 0) throw new Error(`download of ${source} from ${this.options.host} failed (tar exit ${code}): ${stderr.trim()}`);
      return;
    }
    await this.withSftp(signal, (sftp) => getDirSftp(sftp, source, target, this.tuning));
  }

  async close(): Promise<void> {
    const s = this.session;
    this.forget();
    if (!s) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      s.client.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      s.client.end();
    });
    s.bastion?.end();
  }
}

/** Prefix of the line that carries the remote process id (an unlikely control character start). */
const PID_MARKER = "\x1eimgc-pid ";

const SIGNALS: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, ABRT: 6, KILL: 9, SEGV: 11, PIPE: 13, ALRM: 14, TERM: 15 };

