/**
 * A QMP (QEMU Machine Protocol) client over a unix socket. QMP is line-delimited JSON; events
 * (`POWERDOWN`, `SHUTDOWN`, …) may arrive at any time, including between a command and its
 * reply, so replies are matched by `id` and events go to listeners, never mistaken for replies.
 */
import { EventEmitter } from "node:events";
import { connect, type Socket } from "node:net";

/** A QMP event. */
export interface QmpEvent {
  readonly event: string;
  readonly data?: Record<string, unknown>;
  readonly timestamp?: { seconds: number; microseconds: number };
}

/** A QMP command failed (QEMU answered with `error`). */
export class QmpError extends Error {
  constructor(readonly command: string, readonly errorClass: string, description: string) {
    super(`QMP ${command} failed: ${description} (${errorClass})`);
    this.name = "QmpError";
  }
}

interface Pending {
  readonly command: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** A connected, capability-negotiated QMP session. */
export class QmpClient extends EventEmitter<{ event: [QmpEvent]; close: [] }> {
  private buffer = "";
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private closed = false;
  /** Every event received so far, in order (for `waitForEvent` on events that already came). */
  readonly events: QmpEvent[] = [];

  private constructor(private readonly socket: Socket) {
    super();
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.onData(chunk));
    socket.on("close", () => this.onClose());
    socket.on("error", () => this.onClose());
  }

  /**
   * Connects to a QMP socket, reads the greeting and enters command mode
   * (`qmp_capabilities`). Rejects when the socket does not answer within `timeoutMs`.
   */
  static async connect(path: string, timeoutMs = 10_000): Promise<QmpClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path);
      s.once("connect", () => resolve(s));
      s.once("error", reject);
    });
    const client = new QmpClient(socket);
    try {
      await client.greeting(timeoutMs);
      await client.execute("qmp_capabilities", undefined, timeoutMs);
      return client;
    } catch (error) {
      client.close();
      throw error;
    }
  }

  private greetingWaiter: ((ok: boolean) => void) | undefined;
  private greeted = false;

  private greeting(timeoutMs: number): Promise<void> {
    if (this.greeted) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`QMP socket gave no greeting within ${timeoutMs} ms`)), timeoutMs);
      this.greetingWaiter = (ok) => {
        clearTimeout(timer);
        if (ok) resolve();
        else reject(new Error("QMP socket closed before its greeting"));
      };
    });
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line) this.onMessage(line);
    }
  }

  private onMessage(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // QEMU only sends JSON; ignore anything torn
    }
    if ("QMP" in msg) {
      this.greeted = true;
      this.greetingWaiter?.(true);
      return;
    }
    if (typeof msg.event === "string") {
      const event = msg as unknown as QmpEvent;
      this.events.push(event);
      this.emit("event", event);
      return;
    }
    const id = typeof msg.id === "string" ? msg.id : undefined;
    const waiter = id ? this.pending.get(id) : undefined;
    if (!waiter || !id) return;
    this.pending.delete(id);
    if ("error" in msg) {
      const err = msg.error as { class?: string; desc?: string };
      waiter.reject(new QmpError(waiter.command, err.class ?? "GenericError", err.desc ?? "unknown error"));
    } else waiter.resolve(msg.return);
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.greetingWaiter?.(false);
    for (const [, p] of this.pending) p.reject(new Error(`QMP connection closed before ${p.command} answered (QEMU exited)`));
    this.pending.clear();
    this.emit("close");
  }

  /** True once the socket closed (QEMU exited or `close()` was called). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs a QMP command and returns its `return` value. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = 30_000): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`QMP connection is closed; cannot run ${command}`));
    const id = `imgc-${this.nextId++}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`QMP ${command} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        command,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.socket.write(JSON.stringify(args ? { execute: command, arguments: args, id } : { execute: command, id }) + "\n");
    });
  }

  /** Resolves with the first event named `name` (one already received counts), or undefined at timeout/close. */
  waitForEvent(name: string, timeoutMs: number): Promise<QmpEvent | undefined> {
    const seen = this.events.find((e) => e.event === name);
    if (seen) return Promise.resolve(seen);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const done = (e: QmpEvent | undefined) => {
        clearTimeout(timer);
        this.off("event", onEvent);
        this.off("close", onClose);
        resolve(e);
      };
      const onEvent = (e: QmpEvent) => e.event === name && done(e);
      const onClose = () => done(undefined);
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.on("event", onEvent);
      this.on("close", onClose);
    });
  }

  /** Closes the connection. Idempotent. */
  close(): void {
    this.socket.destroy();
    this.onClose();
  }
}
