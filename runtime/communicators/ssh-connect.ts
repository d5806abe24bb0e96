/**
 * Establishing an authenticated ssh2 session: direct or through a bastion (ssh2 `forwardOut`),
 * waiting for the server with backoff until a deadline, with the host key policy enforced on
 * every attempt. A refused host key ends the wait at once; everything else (connection refused,
 * no banner yet, authentication not yet possible while cloud-init installs keys) is retried.
 */
import { Client, type ConnectConfig } from "ssh2";
import type { Duplex } from "node:stream";
import { HostKeyChecker, HostKeyMismatchError, hostKeyAlgorithmsFor, parseHostKeyPolicy } from "./ssh-host-key.js";
import { awaitBanner, backoffMs, connectTcp, sleep } from "./ssh-transport.js";

/** Credentials and address of one SSH endpoint (the machine or a bastion). */
export interface SshEndpoint {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** Password authentication. */
  readonly password?: string;
  /** A private key (OpenSSH or PEM text). */
  readonly privateKey?: string | Buffer;
  /** Passphrase of `privateKey`. */
  readonly passphrase?: string;
  /** Path of an SSH agent socket (`SSH_AUTH_SOCK`). */
  readonly agent?: string;
  /** Host key policy: a key line, a `SHA256:` fingerprint, or `accept-new`. @default "accept-new" */
  readonly hostKey?: string;
}

/** Everything the SSH communicator needs, resolved (no lazy values, durations in ms). */
export interface SshConnectOptions extends SshEndpoint {
  /** How long to wait for the server to accept a session. */
  readonly timeoutMs: number;
  /** Keepalive interval in ms; 0 disables. Three unanswered keepalives drop the connection. */
  readonly keepaliveIntervalMs: number;
  /** Jump host. */
  readonly bastion?: SshEndpoint;
  /** Parallel SFTP requests per file transfer. */
  readonly sftpConcurrency: number;
  /** Cipher preference (ssh2 names). @default ssh2's (AES-GCM first where AES-NI exists) */
  readonly ciphers?: readonly string[];
  /** Log sink. */
  readonly log?: (level: "debug" | "info" | "warn", message: string) => void;
}

/** A live session and what it used. */
export interface SshSession {
  readonly client: Client;
  /** The bastion session, when one is used (closed with the main one). */
  readonly bastion?: Client;
}

/** Per-attempt cap, so one hung attempt does not eat the whole wait. */
const ATTEMPT_MS = 20_000;

function clientConfig(ep: SshEndpoint, checker: HostKeyChecker, opts: SshConnectOptions, sock: Duplex, readyTimeout: number): ConnectConfig {
  const policy = parseHostKeyPolicy(ep.hostKey);
  const serverHostKey = hostKeyAlgorithmsFor(policy);
  return {
    sock: sock as ConnectConfig["sock"],
    username: ep.username,
    ...(ep.password !== undefined ? { password: ep.password } : {}),
    ...(ep.privateKey !== undefined ? { privateKey: ep.privateKey } : {}),
    ...(ep.passphrase !== undefined ? { passphrase: ep.passphrase } : {}),
    ...(ep.agent !== undefined ? { agent: ep.agent } : {}),
    hostVerifier: checker.verify,
    readyTimeout,
    keepaliveInterval: opts.keepaliveIntervalMs,
    keepaliveCountMax: 3,
    algorithms: {
      ...(opts.ciphers ? { cipher: opts.ciphers as never } : {}),
      ...(serverHostKey ? { serverHostKey: serverHostKey as never } : {}),
    },
  };
}

/** One handshake + authentication over an already open stream. */
function handshake(ep: SshEndpoint, checker: HostKeyChecker, opts: SshConnectOptions, sock: Duplex, timeoutMs: number, signal: AbortSignal): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    const onAbort = () => {
      client.end();
      sock.destroy();
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    client.once("ready", () => {
      signal.removeEventListener("abort", onAbort);
      client.removeAllListeners("error");
      // Later errors (a dropped connection) surface through 'close'; keep one listener so
      // an 'error' event never crashes the process.
      client.on("error", (err) => opts.log?.("debug", `ssh ${ep.host}:${ep.port}: ${err.message}`));
      resolve(client);
    });
    client.once("error", (err) => {
      signal.removeEventListener("abort", onAbort);
      client.end();
      sock.destroy();
      reject(checker.refused ?? err);
    });
    client.connect(clientConfig(ep, checker, opts, sock, timeoutMs));
  });
}

/** Opens a stream to host:port through the bastion. */
function forwardOut(bastion: Client, host: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    bastion.forwardOut("127.0.0.1", 0, host, port, (err, stream) => (err ? reject(err) : resolve(stream)));
  });
}

/** Keeps the host key checkers of one communicator, so `accept-new` holds across reconnects. */
export interface HostKeyMemory {
  target: HostKeyChecker;
  bastion?: HostKeyChecker;
}

/** Makes the checkers for a communicator's endpoints. */
export function hostKeyMemory(opts: SshConnectOptions): HostKeyMemory {
  const log = opts.log ?? (() => {});
  const where = (ep: SshEndpoint) => `${ep.host}:${ep.port}`;
  const mk = (ep: SshEndpoint) =>
    new HostKeyChecker(parseHostKeyPolicy(ep.hostKey), where(ep), (fp) => log("info", `accepted host key of ${where(ep)} on first use: ${fp}`));
  return { target: mk(opts), ...(opts.bastion ? { bastion: mk(opts.bastion) } : {}) };
}

/**
 * Waits until the machine accepts an authenticated session (or the deadline passes, or a host
 * key is refused) and returns it. `firstStream`, a direct connection that already showed the
 * server's banner (left unread, see `awaitBanner`), is used for the first attempt instead of a
 * new connection: a caller that polled for the banner saves a connection, which on a slow guest
 * (a VM under emulation forks its SSH server per connection) is a noticeable part of the wait.
 * Ignored with a bastion.
 */
export async function connectSsh(opts: SshConnectOptions, keys: HostKeyMemory, signal: AbortSignal, firstStream?: Duplex): Promise<SshSession> {
  const deadline = Date.now() + opts.timeoutMs;
  const log = opts.log ?? (() => {});
  let bastion: Client | undefined;
  let lastError: Error | undefined;
  // A refused login says more than a later attempt's timeout: report it when one was seen.
  let authError: Error | undefined;
  for (let attempt = 0; ; attempt++) {
    signal.throwIfAborted();
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    const budget = Math.min(remaining, ATTEMPT_MS);
    try {
      let stream: Duplex;
      if (opts.bastion) {
        if (!bastion) bastion = await connectDirect(opts.bastion, keys.bastion!, opts, budget, signal);
        stream = await forwardOut(bastion, opts.host, opts.port).catch((err: Error) => {
          // The bastion may have dropped: make a new one next time.
          bastion?.end();
          bastion = undefined;
          throw new Error(`bastion could not reach ${opts.host}:${opts.port}: ${err.message}`);
        });
        stream = await awaitBanner(stream, budget, `${opts.host}:${opts.port} (via bastion)`);
      } else if (attempt === 0 && firstStream) {
        stream = firstStream;
      } else {
        const sock = await connectTcp(opts.host, opts.port, budget, signal);
        stream = await awaitBanner(sock, budget, `${opts.host}:${opts.port}`);
      }
      const client = await handshake(opts, keys.target, opts, stream, budget, signal);
      return { client, ...(bastion ? { bastion } : {}) };
    } catch (err) {
      if (err instanceof HostKeyMismatchError) {
        bastion?.end();
        throw err;
      }
      if (signal.aborted) {
        bastion?.end();
        throw signal.reason;
      }
      lastError = err as Error;
      if (/authentication methods failed/i.test(lastError.message)) authError = lastError;
      log("debug", `ssh ${opts.host}:${opts.port} not ready (attempt ${attempt + 1}): ${lastError.message}`);
      const wait = Math.min(backoffMs(attempt), deadline - Date.now());
      if (wait > 0) await sleep(wait, signal).catch((e) => {
        bastion?.end();
        throw e;
      });
    }
  }
  bastion?.end();
  throw new Error(`could not open an SSH session to ${opts.username}@${opts.host}:${opts.port} within ${Math.round(opts.timeoutMs / 1000)} s: ${(authError ?? lastError)?.message ?? "no attempt finished"}`);
}

async function connectDirect(ep: SshEndpoint, checker: HostKeyChecker, opts: SshConnectOptions, budget: number, signal: AbortSignal): Promise<Client> {
  const sock = await connectTcp(ep.host, ep.port, budget, signal);
  const stream = await awaitBanner(sock, budget, `bastion ${ep.host}:${ep.port}`);
  return handshake(ep, checker, opts, stream, budget, signal);
}

/**
 * The host key fingerprint a server shows, read from a key exchange only (no login), or
 * `undefined` when it does not answer within `timeoutMs`. Goes through the bastion when one
 * is configured (which needs the bastion's login).
 */
export async function probeHostKey(opts: SshConnectOptions, timeoutMs: number, signal: AbortSignal): Promise<string | undefined> {
  let bastion: Client | undefined;
  try {
    let stream: Duplex;
    if (opts.bastion) {
      bastion = await connectDirect(opts.bastion, hostKeyMemory(opts).bastion!, opts, timeoutMs, signal);
      stream = await awaitBanner(await forwardOut(bastion, opts.host, opts.port), timeoutMs, `${opts.host}:${opts.port}`);
    } else {
      stream = await awaitBanner(await connectTcp(opts.host, opts.port, timeoutMs, signal), timeoutMs, `${opts.host}:${opts.port}`);
    }
    let seen: string | undefined;
    // Refuse every key: the handshake stops right after the server proved which key it holds.
    const checker = new HostKeyChecker({ kind: "fingerprint", fingerprint: "SHA256:-" }, `${opts.host}:${opts.port}`, () => {});
    const record = checker.verify;
    checker.verify = (key: Buffer) => {
      record(key);
      seen = checker.refused?.seen;
      return false;
    };
    await handshake({ ...opts, hostKey: undefined }, checker, opts, stream, timeoutMs, signal).then(
      (client) => client.end(),
      () => {},
    );
    return seen;
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    opts.log?.("debug", `host key probe of ${opts.host}:${opts.port}: ${(err as Error).message}`);
    return undefined;
  } finally {
    bastion?.end();
  }
}
