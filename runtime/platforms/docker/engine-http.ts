/**
 * A minimal Docker Engine API client over node:http: JSON requests, streamed bodies, hijacked
 * exec streams and JSON-progress streams, on one keep-alive connection pool to the daemon's
 * socket. Why not dockerode: loading dockerode costs ~150 ms of CPU per `imgc apply` (its
 * docker-modem pulls in ssh2, its session support gRPC), 8% of the whole `tiny` build; see
 * docs/docker.md for the measurement. The Engine API itself is the same one dockerode calls.
 */
import { Agent, request as httpRequest, type IncomingMessage, type RequestOptions } from "node:http";
import type { Duplex, Readable } from "node:stream";

/** An error answered by the daemon (HTTP status ≥ 400), with the daemon's own message. */
export class EngineError extends Error {
  constructor(
    /** HTTP status, e.g. 404. */
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "EngineError";
  }
}

/** Query string values: arrays become repeated keys (as the Engine API expects for `changes`). */
export type Query = Readonly<Record<string, string | number | boolean | readonly string[] | undefined>>;

/** Options of one request. */
export interface EngineRequest {
  readonly query?: Query;
  /** A JSON body, or a stream sent as-is (tar). */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

/** Where the daemon listens, from `DOCKER_HOST` (`unix://…` or `tcp://host:port`). */
export interface EngineAddress {
  readonly socketPath?: string;
  readonly host?: string;
  readonly port?: number;
}

/** Reads `DOCKER_HOST` the way the docker CLI does (TLS is not supported). */
export function engineAddress(dockerHost = process.env.DOCKER_HOST): EngineAddress {
  if (!dockerHost) return { socketPath: "/var/run/docker.sock" };
  if (dockerHost.startsWith("unix://")) return { socketPath: dockerHost.slice("unix://".length) };
  const m = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(dockerHost);
  if (m) return { host: m[1], port: Number(m[2]) };
  throw new Error(`DOCKER_HOST=${dockerHost} is not supported: use unix:///path/to/docker.sock or tcp://host:port`);
}

function isStream(x: unknown): x is Readable {
  return typeof x === "object" && x !== null && typeof (x as Readable).pipe === "function";
}

function queryString(query: Query | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v) params.append(k, item);
    else params.append(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : "";
}

/** Reads a whole response body. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** One client per daemon address; keeps its connections alive between calls. */
export class EngineClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 16 });

  constructor(readonly address: EngineAddress = engineAddress()) {}

  private options(method: string, path: string, req: EngineRequest): RequestOptions {
    const headers: Record<string, string> = { ...req.headers };
    if (req.body !== undefined && !isStream(req.body)) headers["content-type"] = "application/json";
    if (isStream(req.body)) headers["content-type"] ??= "application/x-tar";
    return {
      method,
      path: path + queryString(req.query),
      headers,
      agent: this.agent,
      signal: req.signal,
      ...(this.address.socketPath ? { socketPath: this.address.socketPath } : { host: this.address.host, port: this.address.port }),
    };
  }

  private where(): string {
    return this.address.socketPath ?? `${this.address.host}:${this.address.port}`;
  }

  /** Sends a request and resolves with the response once its status is known; throws on ≥ 400. */
  async request(method: string, path: string, req: EngineRequest = {}): Promise<IncomingMessage> {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const r = httpRequest(this.options(method, path, req), resolve);
      r.on("error", (err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT" || err.code === "ECONNREFUSED" || err.code === "EACCES")
          reject(new Error(`Cannot reach the Docker daemon at ${this.where()} (${err.code}): is dockerd running and may this user use its socket?`));
        else reject(err);
      });
      if (isStream(req.body)) {
        req.body.on("error", (err) => r.destroy(err));
        req.body.pipe(r);
      } else r.end(req.body === undefined ? undefined : JSON.stringify(req.body));
    });
    if ((res.statusCode ?? 500) >= 400) {
      const text = (await readAll(res)).toString("utf8");
      let message = text.trim();
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        /* a plain-text error body */
      }
      throw new EngineError(res.statusCode ?? 500, message || `HTTP ${res.statusCode}`);
    }
    return res;
  }

  /** A request whose answer is JSON (or empty: `undefined`). */
  async json<T>(method: string, path: string, req: EngineRequest = {}): Promise<T> {
    const res = await this.request(method, path, req);
    const text = (await readAll(res)).toString("utf8");
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * A request whose answer is a JSON-progress stream (pull, push, import, load): reads it to
   * the end, throws the daemon's error when a message carries one, returns every message.
   */
  async progress(method: string, path: string, req: EngineRequest = {}): Promise<Record<string, unknown>[]> {
    const res = await this.request(method, path, req);
    const messages: Record<string, unknown>[] = [];
    let rest = "";
    const take = (line: string): void => {
      if (!line.trim()) return;
      const msg = JSON.parse(line) as Record<string, unknown>;
      const error = (msg.errorDetail as { message?: string } | undefined)?.message ?? (msg.error as string | undefined);
      if (error) throw new EngineError(500, error);
      messages.push(msg);
    };
    for await (const chunk of res) {
      rest += (chunk as Buffer).toString("utf8");
      const lines = rest.split("\n");
      rest = lines.pop() ?? "";
      lines.forEach(take);
    }
    take(rest);
    return messages;
  }

  /**
   * Upgrades the connection to a raw stream (exec start with stdin): resolves with the socket
   * once the daemon answered 101.
   */
  hijack(path: string, body: unknown, signal?: AbortSignal): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const opts = this.options("POST", path, { body, signal });
      // A hijacked socket is never returned to the pool.
      const r = httpRequest({ ...opts, agent: false, headers: { ...opts.headers, connection: "Upgrade", upgrade: "tcp" } });
      r.on("upgrade", (_res, socket, head) => {
        if (head.length) socket.unshift(head);
        resolve(socket);
      });
      r.on("response", (res) => {
        void readAll(res).then((b) => reject(new EngineError(res.statusCode ?? 500, b.toString("utf8").trim() || `HTTP ${res.statusCode}`)));
      });
      r.on("error", reject);
      r.end(JSON.stringify(body));
    });
  }

  /** Closes idle connections so the process can exit. */
  close(): void {
    this.agent.destroy();
  }
}

/**
 * Splits the Engine API's multiplexed attach stream (8-byte frame headers: stream, 0, 0, 0,
 * big-endian size) into stdout and stderr chunks.
 */
export function demux(onStdout: (b: Buffer) => void, onStderr: (b: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      const payload = pending.subarray(8, 8 + size);
      if (pending[0] === 2) onStderr(payload);
      else onStdout(payload);
      pending = pending.subarray(8 + size);
    }
  };
}
