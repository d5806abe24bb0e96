/**
 * The typed context the QEMU steps share (instead of Packer's untyped state bag): the
 * configuration and backend going in, and what each step made, for the next steps and for the
 * cleanups (which act only on what is recorded here).
 */
import type { Server } from "node:http";
import type { Communicator, DriverEnv } from "../../types.js";
import type { QemuBackend, RunningVm } from "./backend.js";
import type { QemuConfig } from "./config.js";
import type { AcceleratorChoice } from "./probe.js";

/** The disk the build produced. */
export interface QemuDiskOutput {
  /** Absolute path of the disk file. */
  readonly path: string;
  /** Its format. */
  readonly format: "qcow2" | "raw";
  /** Its size on disk in bytes. */
  readonly size: number;
  /** Virtual size (what the guest sees) in bytes. */
  readonly virtualSize: number;
  /** sha256 of the file, hex. */
  readonly sha256: string;
  /** The backing file it needs, when kept as an overlay. */
  readonly backingFile?: string;
}

/** The QEMU build context. */
export interface QemuContext {
  readonly env: DriverEnv;
  readonly config: QemuConfig;
  readonly backend: QemuBackend;
  /** Scratch directory for this build's disks, sockets, logs. */
  readonly workDir: string;
  /** The serial console's log file. */
  readonly serialLog: string;

  /** Installer ISO (verified, possibly from the cache). */
  iso?: string;
  /** Disk image the build starts from (verified; an upstream artifact or a download). */
  source?: { readonly path: string; readonly format: string };
  /** The build disk. */
  disk?: { readonly path: string; readonly format: string; readonly temporary: boolean };
  /** Seed CD image made from cdFiles/cdContent. */
  cd?: string;
  /** Directory served as a floppy. */
  floppyDir?: string;
  /** Per-build UEFI variable store. */
  efiVars?: string;
  /** The HTTP server for the guest. */
  http?: { readonly server: Server; readonly port: number };
  /** The accelerator picked. */
  accelerator?: AcceleratorChoice;
  /** The running VM. */
  vm?: RunningVm;
  /** Host port forwarded to the guest's SSH. */
  sshHostPort?: number;
  /** VNC port when not headless. */
  vncPort?: number;
  /** The communicator, once SSH answered. */
  comm?: Communicator;
  /** True once the guest powered off cleanly. */
  poweredOff?: boolean;
  /** The output disk, once written. */
  output?: QemuDiskOutput;
  /** Partially written output file, removed if the build does not finish. */
  partialOutput?: string;
}
