/**
 * Communicator options shared by every platform that reaches its machine over SSH (null, qemu,
 * amazon, …): one type, one schema, so they read the same everywhere.
 */
import { z } from "zod";
import type { Duration } from "./duration.js";
import type { PathLike } from "./path.js";
import { durationSchema, input } from "./schema.js";
import type { Input } from "./values.js";

/** A jump host the SSH connection goes through. */
export interface SshBastion {
  /** Bastion address. */
  readonly host: Input<string>;
  /** Bastion SSH port. @default 22 */
  readonly port?: number;
  /** Bastion user. */
  readonly username: Input<string>;
  /** Password for the bastion (pass a `secret()`). */
  readonly password?: Input<string>;
  /** Private key file for the bastion (a variable may give it; a relative string resolves against the project root). */
  readonly privateKeyFile?: PathLike | Input<string>;
  /** Use the SSH agent (`SSH_AUTH_SOCK`) for the bastion. @default false */
  readonly agent?: boolean;
}

/** How imgc connects to the machine being built over SSH. */
export interface SshOptions {
  /** Address to connect to. @default the platform's (the VM's forwarded port, the instance's IP…) */
  readonly host?: Input<string>;
  /** SSH port. @default 22 (or the platform's forwarded port) */
  readonly port?: Input<number>;
  /** User to log in as. */
  readonly username: Input<string>;
  /** Password authentication (pass a `secret()`). */
  readonly password?: Input<string>;
  /** Private key file (relative to the definitions file; a variable may give it, resolved against the project root). Where the platform can inject a key and none is given, imgc makes a temporary ed25519 key per build. */
  readonly privateKeyFile?: PathLike | Input<string>;
  /** Use the SSH agent (`SSH_AUTH_SOCK`). @default false */
  readonly agent?: boolean;
  /**
   * Host key policy. A pinned key (`"ssh-ed25519 AAAA…"` or a `SHA256:` fingerprint) is checked
   * and any other is refused. `"accept-new"` accepts the first key and logs its fingerprint,
   * which fits throwaway build machines.
   * @default "accept-new"
   */
  readonly hostKey?: string | "accept-new";
  /** How long to wait for the machine's SSH server. @default "5m" */
  readonly timeout?: Duration;
  /** Interval of SSH keepalives; 0 disables them. @default "5s" */
  readonly keepaliveInterval?: Duration;
  /** Connect through this bastion host. */
  readonly bastion?: SshBastion;
  /** Parallel SFTP requests per transfer. @default 64 */
  readonly sftpConcurrency?: number;
}

/** Runtime check of SSH options. */
export const sshOptionsSchema = z.strictObject({
  host: input(z.string()).optional(),
  port: input(z.number().int().min(1).max(65535)).optional(),
  username: input(z.string()),
  password: input(z.string()).optional(),
  privateKeyFile: z.union([input(z.string()), z.instanceof(URL)]).optional(),
  agent: z.boolean().optional(),
  hostKey: z.string().optional(),
  timeout: durationSchema.optional(),
  keepaliveInterval: durationSchema.optional(),
  bastion: z
    .strictObject({
      host: input(z.string()),
      port: z.number().int().optional(),
      username: input(z.string()),
      password: input(z.string()).optional(),
      privateKeyFile: z.union([input(z.string()), z.instanceof(URL)]).optional(),
      agent: z.boolean().optional(),
    })
    .optional(),
  sftpConcurrency: z.number().int().positive().optional(),
});
