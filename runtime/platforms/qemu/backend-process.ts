/**
 * The real QEMU backend: `qemu-system-*` and `qemu-img` run as child processes, QMP over a unix
 * socket. It uses node:child_process directly, not execa like the rest of imgc: everything here
 * runs before the VM starts, and importing execa (≈ 140 ES modules, ≈ 0.1 s, twice that behind
 * the compiler's loader hooks) was the largest part of imgc's start-to-VM time. A VM runs in its own process group (a Ctrl-C in the terminal reaches
 * imgc, whose cleanup powers it off or kills it, not QEMU directly) and, on Linux, under
 * `setpriv --pdeathsig KILL`, so even a `kill -9` of imgc takes the VM with it.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeExit, type DiskInfo, type QemuBackend, type RunningVm, type VmExit } from "./backend.js";
import { PROBE_MARKER, probeArgs, probeBootSector, type AcceleratorProbe } from "./probe.js";
import { QmpClient } from "./qmp.js";

const STDERR_KEEP = 4096;

/** How a short-lived tool failed: the fields the messages below use. */
interface ToolError extends Error {
  /** `ENOENT` when the program is missing; the exit code otherwise. */
  code?: string | number;
  stderr?: string;
}

/** Runs a short-lived tool to completion; resolves with its stdout, rejects with a ToolError. */
function runTool(file: string, args: readonly string[], signal: AbortSignal | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    // maxBuffer: `qemu-img info` of a long backing chain, `map` of a large disk.
    execFile(file, args, { signal, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const e = error as ToolError;
      e.stderr = stderr;
      reject(e);
    });
  });
}

/** The first meaningful lines of a failed tool's output, for an error message. */
function toolMessage(error: unknown, lines: number): string {
  const e = error as ToolError;
  return (e.stderr || e.message || String(error)).trim().split("\n").slice(-lines).join(" ");
}

// VMs still running when imgc exits however it exits (an uncaught error, process.exit) are
// killed, as execa's `cleanup` did; setpriv's parent-death signal also covers `kill -9`.
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  liveChildren.add(child);
  child.once("close", () => liveChildren.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const c of liveChildren) c.kill("SIGKILL");
  });
}

async function which(program: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (!dir) continue;
    try {
      await access(join(dir, program), constants.X_OK);
      return true;
    } catch {
      /* next */
    }
  }
  return false;
}

let setprivAvailable: Promise<boolean> | undefined;
function hasSetpriv(): Promise<boolean> {
  if (process.platform !== "linux") return Promise.resolve(false);
  return (setprivAvailable ??= which("setpriv"));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Options of the real backend. */
export interface ProcessBackendOptions {
  /** The qemu-img program. @default "qemu-img" */
  readonly qemuImg?: string;
  /** The QEMU program the accelerator probe starts. @default "qemu-system-x86_64" */
  readonly qemuBinary?: string;
}

/** Starts a process and keeps the tail of its stderr. */
class VmProcess implements RunningVm {
  private status: VmExit | undefined;
  readonly exited: Promise<VmExit>;
  qmp!: QmpClient;
  private stderrTail = "";

  constructor(private readonly child: ChildProcess) {
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_KEEP);
    });
    this.exited = new Promise<VmExit>((resolve) => {
      // A program that cannot be started (ENOENT) emits 'error' and then 'close'.
      child.once("error", (error) => {
        this.stderrTail = (this.stderrTail + error.message).slice(-STDERR_KEEP);
      });
      child.once("close", (code, signal) => {
        this.status = { code, signal, stderr: this.stderrTail.trim() };
        resolve(this.status);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  exitStatus(): VmExit | undefined {
    return this.status;
  }

  async kill(): Promise<void> {
    if (this.status) return;
    this.qmp?.close();
    this.child.kill("SIGKILL");
    await this.exited;
  }
}


/** Results of the KVM start probe in this process, by QEMU binary and timeout. */
const kvmStarts = new Map<string, Promise<boolean>>();

/** Starts a tiny VM under KVM and says whether it ran to its marker within `timeoutMs`. */
async function kvmTestStartOnce(probeBinary: string, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  const dir = await mkdtemp(join(tmpdir(), "imgc-kvm-probe-"));
  const sector = join(dir, "boot.img");
  const log = join(dir, "debug.log");
  await writeFile(sector, probeBootSector());
  const child = spawn(probeBinary, probeArgs(sector, log), { stdio: "ignore" });
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  child.once("error", () => {});
  track(child);
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !signal.aborted) {
      const text = await readFile(log, "utf8").catch(() => "");
      if (text.includes(PROBE_MARKER)) return true;
      if (child.exitCode !== null || child.signalCode !== null) return false;
      await sleep(50, signal);
    }
    return false;
  } finally {
    child.kill("SIGKILL");
    await closed;
    await rm(dir, { recursive: true, force: true });
  }
}

/** The QEMU backend that runs the real programs. */
export function processBackend(options: ProcessBackendOptions = {}): QemuBackend {
  const qemuImg = options.qemuImg ?? "qemu-img";
  const probeBinary = options.qemuBinary ?? "qemu-system-x86_64";

  const probe: AcceleratorProbe = {
    platform: process.platform,
    async kvmDeviceOpens() {
      try {
        const fh = await open("/dev/kvm", constants.O_RDWR);
        await fh.close();
        return true;
      } catch {
        return false;
      }
    },
    kvmTestStart(timeoutMs, signal) {
      // Whether KVM starts a VM does not change during one apply: one probe (up to its
      // timeout, 2 s where KVM hangs) serves every image that asks.
      const key = `${probeBinary}\0${timeoutMs}`;
      let result = kvmStarts.get(key);
      if (!result) {
        result = kvmTestStartOnce(probeBinary, timeoutMs, signal);
        kvmStarts.set(key, result);
        // A cancelled probe proves nothing: the next build probes again.
        result.then(() => signal.aborted && kvmStarts.delete(key), () => kvmStarts.delete(key));
      }
      return result;
    },
  };

  return {
    probe,

    async version(binary, signal) {
      try {
        const stdout = await runTool(binary, ["--version"], signal);
        return stdout.split("\n")[0] ?? "";
      } catch (error) {
        const code = (error as ToolError).code;
        if (code === "ENOENT") throw new Error(`${binary} is not installed or not on PATH (on Debian: apt-get install qemu-system-x86 qemu-utils)`);
        throw new Error(`${binary} --version failed: ${toolMessage(error, 1)}`);
      }
    },

    async img(args, signal) {
      try {
        return (await runTool(qemuImg, args, signal)).trimEnd();
      } catch (error) {
        const e = error as ToolError;
        if (signal?.aborted || e.name === "AbortError") throw new Error(`qemu-img ${args[0]} was cancelled`);
        if (e.code === "ENOENT") throw new Error(`${qemuImg} is not installed or not on PATH (on Debian: apt-get install qemu-utils)`);
        throw new Error(`qemu-img ${args[0]} failed: ${toolMessage(error, 3)}`);
      }
    },

    async diskInfo(path, signal) {
      const out = await this.img(["info", "--output=json", "-U", path], signal);
      const j = JSON.parse(out) as { format: string; "virtual-size": number; "actual-size"?: number; "backing-filename"?: string; "full-backing-filename"?: string };
      return { format: j.format, virtualSize: j["virtual-size"], actualSize: j["actual-size"] ?? 0, backingFile: j["full-backing-filename"] ?? j["backing-filename"] };
    },

    async makeIso(sourceDir, label, output, signal) {
      const tools: [string, string[]][] = [
        ["xorriso", ["-as", "mkisofs", "-quiet", "-J", "-R", "-V", label, "-o", output, sourceDir]],
        ["genisoimage", ["-quiet", "-J", "-R", "-V", label, "-o", output, sourceDir]],
        ["mkisofs", ["-quiet", "-J", "-R", "-V", label, "-o", output, sourceDir]],
      ];
      for (const [tool, args] of tools) {
        if (!(await which(tool))) continue;
        try {
          await runTool(tool, args, signal);
          return;
        } catch (error) {
          throw new Error(`${tool} could not make the CD image: ${toolMessage(error, 2)}`);
        }
      }
      throw new Error("making a CD image needs xorriso, genisoimage or mkisofs (on Debian: apt-get install xorriso)");
    },

    async start(spec, signal) {
      const useSetpriv = await hasSetpriv();
      const [file, args] = useSetpriv ? ["setpriv", ["--pdeathsig", "KILL", "--", spec.binary, ...spec.args]] : [spec.binary, [...spec.args]];
      const child = spawn(file, args, { stdio: ["ignore", "ignore", "pipe"], detached: true });
      track(child);
      const vm = new VmProcess(child);
      // Wait for the QMP socket QEMU creates at startup; an early exit is QEMU's error.
      const deadline = Date.now() + 30_000;
      let lastError: unknown;
      while (Date.now() < deadline) {
        if (signal.aborted) {
          await vm.kill();
          throw new Error("VM start was cancelled");
        }
        const exit = vm.exitStatus();
        if (exit) throw new Error(describeExit(exit));
        try {
          vm.qmp = await QmpClient.connect(spec.qmpSocket, 10_000);
          return vm;
        } catch (error) {
          lastError = error;
          await sleep(30, signal);
        }
      }
      await vm.kill();
      throw new Error(`QEMU's QMP socket did not answer within 30 s (${(lastError as Error)?.message ?? "no socket"})`);
    },
  };
}
