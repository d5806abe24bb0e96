/**
 * The null platform's narrow seam: the machine already exists, so its only verbs are opening
 * an SSH session to it and reading its host key (to tell whether the machine recorded in the
 * state is still the same one). `backend-ssh.ts` implements it with the SSH communicator.
 */
import type { Communicator } from "../../types.js";
import type { SshConnectOptions } from "../../communicators/ssh-connect.js";

/** An open session to the existing host. */
export interface NullSession extends Communicator {
  /** The host key fingerprint accepted for this session. */
  readonly hostKeyFingerprint: string | undefined;
}

/** What the null driver needs from the world. */
export interface NullBackend {
  /** Waits for the host (up to `options.timeoutMs`) and logs in. */
  connect(options: SshConnectOptions, signal: AbortSignal): Promise<NullSession>;
  /** The host's key fingerprint, or undefined when it does not answer within `timeoutMs`. */
  hostKey(options: SshConnectOptions, timeoutMs: number, signal: AbortSignal): Promise<string | undefined>;
}
