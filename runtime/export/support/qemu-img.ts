/**
 * `qemu-img` (Debian's qemu-utils) through execa: the one tool the exports use to read and write
 * disk formats. Every call honours the abort signal and fails with a sentence that says which
 * command failed and why (its stderr).
 */
import { execa, type ExecaError } from "execa";
import { exportError } from "./errors.js";

/** What `qemu-img info` says about a disk. */
export interface DiskInfo {
  /** The format qemu-img detected (or was told), e.g. `qcow2`, `raw`, `vmdk`, `vpc`. */
  readonly format: string;
  /** Virtual size in bytes. */
  readonly virtualSize: number;
  /** Bytes the file takes on the host. */
  readonly actualSize: number;
  /** Format-specific fields (`format-specific.data`): VMDK create-type, VHDX block size… */
  readonly specific: Record<string, unknown>;
}

async function qemuImg(args: readonly string[], signal: AbortSignal): Promise<string> {
  try {
    const { stdout } = await execa("qemu-img", args, { cancelSignal: signal, stripFinalNewline: true });
    return stdout;
  } catch (error) {
    const e = error as ExecaError & { code?: string };
    if (e.isCanceled || signal.aborted) throw signal.reason ?? new Error("cancelled");
    if (e.code === "ENOENT") throw exportError("qemu-img is not installed", "install Debian's qemu-utils package");
    const detail = String(e.stderr ?? e.shortMessage ?? e.message).trim().split("\n").slice(-3).join(" ");
    throw exportError(`qemu-img ${args[0]} failed: ${detail}`);
  }
}

/** `qemu-img info`: format and sizes. With `format`, qemu-img reads the disk as that format (and fails if it is not). */
export async function diskInfo(path: string, signal: AbortSignal, format?: string): Promise<DiskInfo> {
  const out = await qemuImg(["info", "--output=json", ...(format ? ["-f", format] : []), path], signal);
  const info = JSON.parse(out) as { format: string; "virtual-size": number; "actual-size": number; "format-specific"?: { data?: Record<string, unknown> } };
  return { format: info.format, virtualSize: info["virtual-size"], actualSize: info["actual-size"], specific: info["format-specific"]?.data ?? {} };
}

/** `qemu-img convert` from one format to another, `-o` options as given. */
export async function convert(src: { path: string; format: string }, dst: { path: string; format: string; options?: readonly string[] }, signal: AbortSignal): Promise<void> {
  const o = dst.options?.length ? ["-o", dst.options.join(",")] : [];
  await qemuImg(["convert", "-f", src.format, "-O", dst.format, ...o, src.path, dst.path], signal);
}

/** `qemu-img resize` of a raw disk to `size` bytes (grows only). */
export async function growRaw(path: string, size: number, signal: AbortSignal): Promise<void> {
  await qemuImg(["resize", "-q", "-f", "raw", path, String(size)], signal);
}

/**
 * `qemu-img check`: consistency of the formats that have metadata (qcow2, vmdk, vhdx, vdi,
 * parallels, qed). Returns what it found; formats without a checker report `supported: false`.
 */
export async function checkDisk(path: string, format: string, signal: AbortSignal): Promise<{ supported: boolean; corruptions: number; leaks: number; raw: string }> {
  try {
    const { stdout } = await execa("qemu-img", ["check", "--output=json", "-f", format, path], { cancelSignal: signal });
    const r = JSON.parse(stdout) as { corruptions?: number; leaks?: number };
    return { supported: true, corruptions: r.corruptions ?? 0, leaks: r.leaks ?? 0, raw: stdout };
  } catch (error) {
    const e = error as ExecaError;
    if (signal.aborted) throw signal.reason;
    const stderr = String(e.stderr ?? "");
    if (/does not support checks/i.test(stderr)) return { supported: false, corruptions: 0, leaks: 0, raw: stderr };
    // Exit 2 = corruptions, 3 = leaks: stdout still holds the JSON report.
    if (typeof e.stdout === "string" && e.stdout.trim().startsWith("{")) {
      const r = JSON.parse(e.stdout) as { corruptions?: number; leaks?: number };
      return { supported: true, corruptions: r.corruptions ?? 0, leaks: r.leaks ?? 0, raw: e.stdout };
    }
    throw exportError(`qemu-img check of ${path} failed: ${stderr.trim() || e.shortMessage}`);
  }
}
