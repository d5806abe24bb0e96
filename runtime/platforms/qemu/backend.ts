/**
 * The QEMU backend: the narrow seam between the steps and the host, in domain verbs. Like
 * Packer's qemu driver it is argv-level (the steps build `qemu-system` and `qemu-img`
 * arguments with pure functions, tested directly), plus the running VM's QMP session.
 */
import type { AcceleratorProbe } from "./probe.js";
import type { QmpClient } from "./qmp.js";

/** How a VM process ended. */
export interface VmExit {
  /** Exit code, or null when killed by a signal. */
  readonly code: number | null;
  /** The signal that killed it, if any. */
  readonly signal: string | null;
  /** The last lines QEMU wrote on stderr (its error messages). */
  readonly stderr: string;
}

/** A VM to start. */
export interface VmSpec {
  /** The QEMU program, e.g. `qemu-system-x86_64`. */
  readonly binary: string;
  /** Its arguments (the QMP socket among them). */
  readonly args: readonly string[];
  /** The QMP unix socket the arguments create. */
  readonly qmpSocket: string;
}

/** A running VM. */
export interface RunningVm {
  /** The QEMU process id. */
  readonly pid: number;
  /** The QMP session (negotiated). */
  readonly qmp: QmpClient;
  /** Settles when the process ended; never rejects. */
  readonly exited: Promise<VmExit>;
  /** The exit, once it happened. */
  exitStatus(): VmExit | undefined;
  /** Kills the process (SIGKILL) and waits for it. Idempotent. */
  kill(): Promise<void>;
}

/** Facts from `qemu-img info`. */
export interface DiskInfo {
  /** `qcow2`, `raw`, … */
  readonly format: string;
  /** Size the guest sees, bytes. */
  readonly virtualSize: number;
  /** Bytes used on the host. */
  readonly actualSize: number;
  /** The backing file, if the disk is an overlay. */
  readonly backingFile?: string;
}

/** The seam steps talk through. */
export interface QemuBackend {
  /** The version line of `binary` (`QEMU emulator version 7.2.22 …`); throws a clear error when it is missing. */
  version(binary: string, signal: AbortSignal): Promise<string>;
  /** Runs `qemu-img` with these arguments; resolves with its stdout. */
  img(args: readonly string[], signal: AbortSignal): Promise<string>;
  /** `qemu-img info` of a disk. */
  diskInfo(path: string, signal: AbortSignal): Promise<DiskInfo>;
  /** Makes an ISO 9660 image (Joliet + Rock Ridge) of a directory with a volume label. */
  makeIso(sourceDir: string, label: string, output: string, signal: AbortSignal): Promise<void>;
  /** Starts a VM and connects to its QMP socket; rejects (with QEMU's error) when it exits first. */
  start(spec: VmSpec, signal: AbortSignal): Promise<RunningVm>;
  /** The host facts the accelerator choice needs. */
  readonly probe: AcceleratorProbe;
}

/** Says what went wrong with QEMU, from its exit and stderr. */
export function describeExit(exit: VmExit): string {
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  return exit.stderr ? `QEMU ${how}: ${exit.stderr.split("\n").slice(-5).join(" | ")}` : `QEMU ${how}`;
}
