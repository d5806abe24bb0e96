/**
 * The exclusive lock of a state file, held for a whole apply (or destroy, or state rm). It is a
 * file `<state>.lock` created with O_EXCL and holding the holder's pid, host and start time. A
 * second apply waits up to `--lock-timeout`, then fails naming the holder. A lock whose holder
 * is a dead process on this host is taken over, with a warning.
 */
import { open, readFile, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";

/** Who holds a lock. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** ISO time it was taken. */
  readonly since: string;
  /** What holds it, e.g. `apply`. */
  readonly command: string;
}

/** Thrown when the lock stays held past the timeout. */
export class LockTimeoutError extends Error {
  readonly code = "STATE_LOCKED";
  constructor(readonly path: string, readonly holder: LockHolder | undefined, timeoutMs: number) {
    super(
      holder
        ? `the state is locked by pid ${holder.pid} on host ${holder.host} (${holder.command} since ${holder.since}); waited ${timeoutMs / 1000}s`
        : `the state lock ${path} is held by another process; waited ${timeoutMs / 1000}s`,
    );
    this.name = "LockTimeoutError";
  }
}

/** Options of `acquireLock`. */
export interface LockOptions {
  /** How long to wait for a held lock. @default 0 (fail at once) */
  readonly timeoutMs?: number;
  /** What takes it, recorded for the error another process shows. */
  readonly command?: string;
  /** Told once when the lock is held and we start waiting. */
  readonly onWait?: (holder: LockHolder | undefined) => void;
  /** Told when a dead holder's lock is taken over. */
  readonly onStale?: (holder: LockHolder) => void;
  /** Aborts the wait. */
  readonly signal?: AbortSignal;
}

/** A held lock. */
export interface Lock {
  readonly path: string;
  /** Releases it. Idempotent. */
  release(): Promise<void>;
}

/** True when `pid` is a live process on this host. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, "utf8")) as LockHolder;
    return typeof parsed.pid === "number" && typeof parsed.host === "string" ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the lock of the state file `statePath`. */
export async function acquireLock(statePath: string, options: LockOptions = {}): Promise<Lock> {
  const path = `${statePath}.lock`;
  const { mkdir } = await import("node:fs/promises");
  const { dirname } = await import("node:path");
  await mkdir(dirname(path), { recursive: true });
  const me: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString(), command: options.command ?? "apply" };
  const deadline = Date.now() + (options.timeoutMs ?? 0);
  let told = false;
  let delay = 50;
  for (;;) {
    try {
      const handle = await open(path, "wx", 0o644);
      await handle.writeFile(JSON.stringify(me) + "\n");
      await handle.sync();
      await handle.close();
      let released = false;
      return {
        path,
        async release() {
          if (released) return;
          released = true;
          // Remove it only while it is still ours.
          const holder = await readHolder(path);
          if (holder && holder.pid === me.pid && holder.host === me.host) await unlink(path).catch(() => {});
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = await readHolder(path);
    if (holder && holder.host === me.host && holder.pid !== me.pid && !processAlive(holder.pid)) {
      // A dead holder: take over, but only if the file still names it (another waiter may
      // have taken over between our read and now).
      const again = await readHolder(path);
      if (again && again.pid === holder.pid && again.since === holder.since) {
        options.onStale?.(holder);
        await unlink(path).catch(() => {});
      }
      continue;
    }
    if (holder === undefined) {
      // Being written right now, or garbage: a lock file older than a second with no holder
      // is garbage left by a crash between create and write.
      await sleep(20);
      const check = await readHolder(path);
      if (check === undefined) {
        const { stat } = await import("node:fs/promises");
        const st = await stat(path).catch(() => undefined);
        if (st && Date.now() - st.mtimeMs > 1000) {
          await unlink(path).catch(() => {});
          continue;
        }
      }
    }
    if (Date.now() >= deadline) throw new LockTimeoutError(path, holder, options.timeoutMs ?? 0);
    if (!told) {
      told = true;
      options.onWait?.(holder);
    }
    await sleep(Math.min(delay, Math.max(1, deadline - Date.now())), undefined, options.signal ? { signal: options.signal } : {});
    delay = Math.min(delay * 2, 500);
  }
}
