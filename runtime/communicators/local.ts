/**
 * The local communicator: "the machine" is the one running imgc (shellLocal, and platforms
 * that build in a local chroot or directory). Commands run through `/bin/sh -c` with execa;
 * env values go in the process environment, never into the command line.
 */
import { execa } from "execa";
import { cp, mkdir } from "node:fs/promises";
import { join, dirname } from "node:path";
import { pipeline } from "node:stream/promises";
import { createWriteStream } from "node:fs";
import { chmod, copyFile, stat, writeFile } from "node:fs/promises";
import type { Readable } from "node:stream";
import type { Communicator, RemoteCommand, RemoteResult, UploadOptions } from "../types.js";
import { checkEnvNames } from "./shell-quote.js";
import { destinationDir } from "./paths.js";

/** Runs commands and copies files on this machine. */
export class LocalCommunicator implements Communicator {
  readonly kind = "local" as const;

  async exec(cmd: RemoteCommand, signal: AbortSignal): Promise<RemoteResult> {
    if (cmd.env) checkEnvNames(cmd.env, "env");
    if (cmd.user) throw new Error(`the local communicator cannot run commands as another user (${cmd.user}); use sudo in the command`);
    const child = execa("/bin/sh", ["-c", cmd.command], {
      env: cmd.env ?? {},
      ...(cmd.workdir ? { cwd: cmd.workdir } : {}),
      ...(cmd.stdin !== undefined ? { input: typeof cmd.stdin === "string" || Buffer.isBuffer(cmd.stdin) ? cmd.stdin : undefined } : { stdin: "ignore" as const }),
      cancelSignal: signal,
      forceKillAfterDelay: 2000,
      reject: false,
      buffer: false,
      // Kill the whole process group on abort, so a script's children go too.
      detached: true,
      killSignal: "SIGTERM",
    });
    if (cmd.stdin !== undefined && typeof cmd.stdin !== "string" && !Buffer.isBuffer(cmd.stdin)) (cmd.stdin as Readable).pipe(child.stdin!);
    child.stdout?.on("data", (d: Buffer) => cmd.onStdout?.(d));
    child.stderr?.on("data", (d: Buffer) => cmd.onStderr?.(d));
    const onAbort = () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const res = await child;
      if (signal.aborted) throw signal.reason;
      return { exitCode: res.exitCode ?? (res.signal ? 128 + (osSignal(res.signal) ?? 0) : null) };
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  async upload(destination: string, source: string | Readable | Buffer, options: UploadOptions, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await mkdir(dirname(destination), { recursive: true });
    if (typeof source === "string") {
      await copyFile(source, destination);
      await chmod(destination, options.mode ?? (await stat(source)).mode & 0o7777);
    } else if (Buffer.isBuffer(source)) {
      await writeFile(destination, source);
      await chmod(destination, options.mode ?? 0o644);
    } else {
      await pipeline(source, createWriteStream(destination), { signal });
      await chmod(destination, options.mode ?? 0o644);
    }
    if (options.owner) await this.chown(destination, options.owner, false, signal);
  }

  private async chown(path: string, owner: string, recursive: boolean, signal: AbortSignal): Promise<void> {
    const res = await execa("chown", [...(recursive ? ["-R"] : []), owner, path], { reject: false, cancelSignal: signal });
    if (res.exitCode !== 0) throw new Error(`chown ${owner} ${path} failed: ${res.stderr}`);
  }

  async uploadDir(destination: string, source: string, options: UploadOptions, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const target = destinationDir(destination, source, join);
    await cp(source, target, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    if (options.owner) await this.chown(target, options.owner, true, signal);
  }

  async download(source: string, destination: string, signal: AbortSignal): Promise<void> {
    await this.upload(destination, source, {}, signal);
  }

  async downloadDir(source: string, destination: string, signal: AbortSignal): Promise<void> {
    await this.uploadDir(destination, source, {}, signal);
  }

  async close(): Promise<void> {}
}

function osSignal(name: string): number | undefined {
  return (({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }) as Record<string, number>)[name];
}

