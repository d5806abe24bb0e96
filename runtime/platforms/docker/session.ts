/**
 * A persistent shell in the build container: ONE `docker exec /bin/sh` whose stdin carries
 * the commands, so each provisioner command costs a fork in the container instead of an exec
 * round trip in the daemon (~50 ms each here: create, start, inspect, and runc setting up a
 * process). Small files go through the same channel as base64 here-documents instead of a tar
 * upload (~45 ms each). See docs/docker.md for the measurements.
 *
 * Each command runs as `/bin/sh -c <command>` in a subshell with stdin from /dev/null (so it
 * cannot eat the command stream), its own working directory and exported environment (values
 * single-quoted, never in an argv). After it, the shell prints a marker with the exit status
 * on BOTH stdout and stderr: the daemon copies the two pipes independently, so a command is
 * over only when each stream has delivered its marker, and no output is misattributed.
 */
import { randomBytes } from "node:crypto";
import type { ShellChannel } from "./backend.js";

/** Quotes a word for `/bin/sh`. */
export function quote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** What one command needs. */
export interface SessionCommand {
  /** The shell text to run (as `/bin/sh -c` would), or a raw script for the session shell itself. */
  readonly script: string;
  /** True: `script` is run as a `/bin/sh -c` command in a subshell; false: written as is (here-documents). */
  readonly wrap: boolean;
  readonly env?: Readonly<Record<string, string>>;
  readonly workdir?: string;
  readonly onStdout?: (chunk: Buffer) => void;
  readonly onStderr?: (chunk: Buffer) => void;
}

/** Splits one output stream at the marker of the command in flight. */
class MarkerScanner {
  private held: Buffer = Buffer.alloc(0);
  constructor(
    private readonly marker: Buffer,
    private readonly emit: (chunk: Buffer) => void,
    private readonly found: (status: number) => void,
  ) {}

  push(chunk: Buffer): void {
    let buf = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
    this.held = Buffer.alloc(0);
    const at = buf.indexOf(this.marker);
    if (at >= 0) {
      const end = buf.indexOf(0x1e, at + this.marker.length);
      if (end < 0) {
        if (at > 0) this.emit(buf.subarray(0, at));
        this.held = Buffer.from(buf.subarray(at));
        return;
      }
      if (at > 0) this.emit(buf.subarray(0, at));
      this.found(Number(buf.subarray(at + this.marker.length, end).toString("ascii")));
      buf = buf.subarray(end + 1);
      if (buf.length) this.emit(buf); // output after a command ended (a background process): keep it visible
      return;
    }
    // Hold back a tail that could be the start of a marker split across chunks.
    const cut = buf.lastIndexOf(0x1e);
    if (cut >= 0 && buf.length - cut < this.marker.length + 12) {
      if (cut > 0) this.emit(buf.subarray(0, cut));
      this.held = Buffer.from(buf.subarray(cut));
    } else if (buf.length) this.emit(buf);
  }
}

/** A command stream into one long-lived shell. Commands run one at a time. */
export class ShellSession {
  private readonly nonce = randomBytes(8).toString("hex");
  private seq = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private current?: { stdout: MarkerScanner; stderr: MarkerScanner; fail: (e: Error) => void };
  private dead?: Error;

  constructor(private readonly channel: ShellChannel) {
    channel.onData((stream, chunk) => (stream === "stderr" ? this.current?.stderr.push(chunk) : this.current?.stdout.push(chunk)));
    void channel.closed.then(
      () => this.die(new Error("the build container's shell session ended")),
      (e: Error) => this.die(e),
    );
  }

  /** False once the shell ended or a command was interrupted; callers then use plain execs. */
  get usable(): boolean {
    return this.dead === undefined;
  }

  private die(error: Error): void {
    this.dead ??= error;
    this.current?.fail(error);
  }

  /** Runs one command; resolves with its exit status. An abort ends the session. */
  run(cmd: SessionCommand, signal: AbortSignal): Promise<number> {
    const next = this.queue.then(() => this.runNow(cmd, signal));
    this.queue = next.catch(() => {});
    return next;
  }

  private runNow(cmd: SessionCommand, signal: AbortSignal): Promise<number> {
    if (this.dead) return Promise.reject(this.dead);
    signal.throwIfAborted();
    const id = `${this.nonce}-${++this.seq}`;
    const marker = Buffer.from(`\x1eIMGC${id}:`);
    return new Promise<number>((resolve, reject) => {
      let out: number | undefined;
      let err: number | undefined;
      const done = (): void => {
        if (out === undefined || err === undefined) return;
        cleanup();
        resolve(out);
      };
      const onAbort = (): void => {
        // The command is still running in there: this shell is no longer in a known state.
        this.die(Object.assign(new Error("the command was aborted"), { name: "AbortError" }));
        this.channel.destroy();
      };
      const cleanup = (): void => {
        signal.removeEventListener("abort", onAbort);
        this.current = undefined;
        this.channel.setBusy(false);
      };
      this.current = {
        stdout: new MarkerScanner(marker, cmd.onStdout ?? (() => {}), (s) => ((out = s), done())),
        stderr: new MarkerScanner(marker, cmd.onStderr ?? (() => {}), (s) => ((err = s), done())),
        fail: (e) => {
          cleanup();
          reject(signal.aborted ? Object.assign(new Error("The operation was aborted"), { name: "AbortError" }) : e);
        },
      };
      signal.addEventListener("abort", onAbort, { once: true });
      const exports = Object.entries(cmd.env ?? {}).map(([k, v]) => {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`environment variable name ${JSON.stringify(k)} is not valid`);
        return `export ${k}=${quote(v)}\n`;
      });
      const body = cmd.wrap ? `exec /bin/sh -c ${quote(cmd.script)}\n` : `${cmd.script}\n`;
      const text =
        `(\n${cmd.workdir ? `cd ${quote(cmd.workdir)} || exit 1\n` : ""}${exports.join("")}${body}) </dev/null\n` +
        `__imgc_s=$?; printf '\\036IMGC%s:%d\\036' ${id} $__imgc_s; printf '\\036IMGC%s:%d\\036' ${id} $__imgc_s >&2\n`;
      this.channel.setBusy(true);
      this.channel.write(Buffer.from(text));
    });
  }

  /** Ends the shell. */
  close(): void {
    this.die(new Error("the shell session was closed"));
    this.channel.destroy();
  }
}

/** A here-document that writes `data` to `path` with `mode` (base64 keeps it binary-safe). */
export function writeFileScript(path: string, data: Buffer, mode: number): string {
  const eof = `IMGC_EOF_${randomBytes(6).toString("hex")}`;
  const b64 = data.toString("base64").replace(/.{1,76}/g, "$&\n");
  const dir = path.replace(/\/[^/]*$/, "") || "/";
  return `mkdir -p ${quote(dir)} && base64 -d > ${quote(path)} <<'${eof}' && chmod ${mode.toString(8)} ${quote(path)}\n${b64}${eof}`;
}
