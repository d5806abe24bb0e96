/**
 * The `none` communicator: the platform has no way into the machine (Packer's `communicator:
 * "none"`). Provisioners that need one fail with a sentence saying so; closing is a no-op.
 */
import type { Communicator, RemoteResult } from "../types.js";

/** A communicator that refuses every operation with a clear error. */
export class NoneCommunicator implements Communicator {
  readonly kind = "none" as const;

  constructor(private readonly where = "this platform") {}

  private refuse(what: string): never {
    throw new Error(`${where(this.where)} has no communicator (communicator "none"), so it cannot ${what}; remove the provisioner or use only/except to skip it on this platform`);
  }

  async exec(): Promise<RemoteResult> {
    this.refuse("run commands");
  }
  async upload(): Promise<void> {
    this.refuse("upload files");
  }
  async uploadDir(): Promise<void> {
    this.refuse("upload directories");
  }
  async download(): Promise<void> {
    this.refuse("download files");
  }
  async downloadDir(): Promise<void> {
    this.refuse("download directories");
  }
  async close(): Promise<void> {}
}

function where(w: string): string {
  return w.charAt(0).toUpperCase() + w.slice(1);
}
