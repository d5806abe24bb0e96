/**
 * `LocalCommunicator` for plugins, loaded on first use: the real one (runtime/communicators/
 * local.ts) pulls in execa, and a plugin's driver module is imported even by a no-op apply (to
 * ask whether artifacts exist), where that cost would be paid for nothing.
 */
import type { Readable } from "node:stream";
import type { Communicator, RemoteCommand, RemoteResult, UploadOptions } from "../types.js";

/** Runs commands and copies files on this machine (the `local` communicator). */
export class LocalCommunicator implements Communicator {
  readonly kind = "local" as const;
  private impl?: Promise<Communicator>;

  private real(): Promise<Communicator> {
    return (this.impl ??= import("../communicators/local.js").then((m) => new m.LocalCommunicator()));
  }
  async exec(cmd: RemoteCommand, signal: AbortSignal): Promise<RemoteResult> {
    return (await this.real()).exec(cmd, signal);
  }
  async upload(destination: string, source: string | Readable | Buffer, options: UploadOptions, signal: AbortSignal): Promise<void> {
    return (await this.real()).upload(destination, source, options, signal);
  }
  async uploadDir(destination: string, source: string, options: UploadOptions, signal: AbortSignal): Promise<void> {
    return (await this.real()).uploadDir(destination, source, options, signal);
  }
  async download(source: string, destination: string, signal: AbortSignal): Promise<void> {
    return (await this.real()).download(source, destination, signal);
  }
  async downloadDir(source: string, destination: string, signal: AbortSignal): Promise<void> {
    return (await this.real()).downloadDir(source, destination, signal);
  }
  async close(): Promise<void> {
    if (this.impl) await (await this.impl).close();
  }
}
