/**
 * Turns the user's `ssh` options (lang/communicator.ts, resolved: no lazy values left) into
 * what the SSH communicator needs: key files read, durations in ms, the agent socket found,
 * passwords registered with the redactor, and the platform's defaults (its forwarded port, a
 * temporary key it injected) filled in. Every platform that reaches its machine over SSH uses it.
 */
import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { isIrPath } from "../../compiler/ir.js";
import { parseDuration } from "../../lang/duration.js";
import type { BuildLog } from "../types.js";
import type { SshConnectOptions, SshEndpoint } from "./ssh-connect.js";

/** One endpoint's options as they arrive resolved (key files as `$path` markers or strings). */
export interface ResolvedSshEndpoint {
  readonly host?: string;
  readonly port?: number;
  readonly username?: string;
  readonly password?: string;
  readonly privateKeyFile?: unknown;
  readonly agent?: boolean;
  readonly hostKey?: string;
}

/** `SshOptions` resolved. */
export interface ResolvedSshOptions extends ResolvedSshEndpoint {
  readonly timeout?: string | number;
  readonly keepaliveInterval?: string | number;
  readonly sftpConcurrency?: number;
  readonly bastion?: ResolvedSshEndpoint;
}

/** What the platform supplies. */
export interface SshDefaults {
  /** The machine's address when `ssh.host` is not given (a VM's forward, an instance's IP). */
  readonly host?: string;
  /** The port when `ssh.port` is not given. @default 22 */
  readonly port?: number;
  /** A private key the platform injected (a temporary key), used when no auth is configured. */
  readonly privateKey?: string;
}

/** Where the options are resolved. */
export interface SshOptionsEnv {
  /** Relative key paths resolve against it. */
  readonly projectRoot: string;
  /** Receives the communicator's log lines. */
  readonly log?: BuildLog;
  /** Registers secrets (passwords, key text). */
  readonly redact?: (value: string) => void;
  /** The environment (`SSH_AUTH_SOCK`). @default process.env */
  readonly processEnv?: NodeJS.ProcessEnv;
}

async function readKey(file: unknown, env: SshOptionsEnv, what: string): Promise<string> {
  const path = isIrPath(file) ? file.$path : typeof file === "string" ? (isAbsolute(file) ? file : resolve(env.projectRoot, file)) : undefined;
  if (path === undefined) throw new Error(`${what} must be a path, got ${JSON.stringify(file)}`);
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new Error(`${what} ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

async function endpoint(o: ResolvedSshEndpoint, env: SshOptionsEnv, defaults: SshDefaults, what: string): Promise<SshEndpoint> {
  const host = o.host ?? defaults.host;
  if (!host) throw new Error(`${what}.host is required: the address of the machine to connect to`);
  if (!o.username) throw new Error(`${what}.username is required`);
  const port = o.port ?? defaults.port ?? 22;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${what}.port must be a TCP port, got ${JSON.stringify(port)}`);
  let privateKey: string | undefined;
  if (o.privateKeyFile !== undefined) privateKey = await readKey(o.privateKeyFile, env, `${what}.privateKeyFile`);
  else if (defaults.privateKey) privateKey = defaults.privateKey;
  let agent: string | undefined;
  if (o.agent) {
    agent = (env.processEnv ?? process.env).SSH_AUTH_SOCK;
    if (!agent) throw new Error(`${what}.agent is true but SSH_AUTH_SOCK is not set: start an ssh-agent or give privateKeyFile`);
  }
  if (o.password !== undefined) env.redact?.(o.password);
  if (privateKey !== undefined) env.redact?.(privateKey);
  if (o.password === undefined && privateKey === undefined && agent === undefined) {
    throw new Error(`${what} has no way to log in: give password, privateKeyFile or agent: true`);
  }
  return {
    host,
    port,
    username: o.username,
    ...(o.password !== undefined ? { password: o.password } : {}),
    ...(privateKey !== undefined ? { privateKey } : {}),
    ...(agent !== undefined ? { agent } : {}),
    ...(o.hostKey !== undefined ? { hostKey: o.hostKey } : {}),
  };
}

/** The communicator's options from the user's `ssh` options and the platform's defaults. */
export async function sshConnectOptions(o: ResolvedSshOptions, env: SshOptionsEnv, defaults: SshDefaults = {}): Promise<SshConnectOptions> {
  const target = await endpoint(o, env, defaults, "ssh");
  const bastion = o.bastion ? await endpoint(o.bastion, env, {}, "ssh.bastion") : undefined;
  const concurrency = o.sftpConcurrency ?? 64;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`ssh.sftpConcurrency must be a positive integer, got ${JSON.stringify(concurrency)}`);
  const log = env.log;
  return {
    ...target,
    timeoutMs: parseDuration(o.timeout ?? "5m"),
    keepaliveIntervalMs: parseDuration(o.keepaliveInterval ?? "5s"),
    sftpConcurrency: concurrency,
    ...(bastion ? { bastion } : {}),
    ...(log ? { log: (level, message) => log.log(level, message) } : {}),
  };
}
