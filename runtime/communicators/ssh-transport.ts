/**
 * Opening the byte stream an SSH session runs over, and waiting until a real SSH server is on
 * the other end. A TCP accept is not enough: user-mode port forwards (QEMU's `hostfwd`, Docker
 * proxies) accept connections before the guest's sshd listens, then drop them. So a fresh
 * stream counts only once the server's `SSH-` identification line has arrived; the bytes read
 * are pushed back so ssh2 reads the banner itself.
 */
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";

/** Why a stream did not become an SSH transport; the caller retries until its deadline. */
export class TransportError extends Error {
  override name = "TransportError";
}

/** Reads from `stream` until the `SSH-` banner line is seen (leaves it unread), or fails. */
export function awaitBanner<S extends Duplex>(stream: S, timeoutMs: number, what: string): Promise<S> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (err?: Error) => {
      clearTimeout(timer);
      stream.off("data", onData);
      stream.off("error", onError);
      stream.off("close", onClose);
      stream.off("end", onClose);
      if (err) {
        stream.destroy();
        reject(err);
        return;
      }
      stream.pause();
      stream.unshift(buf);
      resolve(stream);
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      // RFC 4253 lets a server send other lines before its identification string.
      const text = buf.toString("latin1");
      if (/(^|\n)SSH-/.test(text) && text.slice(text.search(/(^|\n)SSH-/)).includes("\n")) done();
      else if (buf.length > 16384) done(new TransportError(`${what} sent ${buf.length} bytes without an SSH banner`));
    };
    const onError = (err: Error) => done(new TransportError(`${what}: ${err.message}`));
    const onClose = () => done(new TransportError(`${what} closed the connection before sending an SSH banner (the SSH server is not up yet)`));
    const timer = setTimeout(() => done(new TransportError(`${what} sent no SSH banner within ${timeoutMs} ms`)), timeoutMs);
    stream.on("data", onData);
    stream.once("error", onError);
    stream.once("close", onClose);
    stream.once("end", onClose);
  });
}

/** Connects TCP to host:port (aborts with `signal`), failing after `timeoutMs`. */
export function connectTcp(host: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    sock.setNoDelay(true);
    const fail = (err: Error) => {
      cleanup();
      sock.destroy();
      reject(err);
    };
    const onAbort = () => fail(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
    const onError = (err: Error) => fail(new TransportError(`${host}:${port}: ${err.message}`));
    const timer = setTimeout(() => fail(new TransportError(`${host}:${port}: TCP connect timed out after ${timeoutMs} ms`)), timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      sock.off("error", onError);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    sock.once("error", onError);
    sock.once("connect", () => {
      cleanup();
      resolve(sock);
    });
  });
}

/** Sleeps `ms`, rejecting when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Backoff between connection attempts: 250 ms doubling up to 5 s. */
export function backoffMs(attempt: number): number {
  return Math.min(5000, 250 * 2 ** Math.min(attempt, 5));
}
