/**
 * The `qemu` platform factory (`imgc/platforms/qemu`): builds a disk image in a real QEMU
 * virtual machine, like Packer's qemu builder. The VM starts from a disk image (an overlay on
 * it, so starting costs the same whatever the base's size), from another imgc image (`from`),
 * or from an installer ISO typed into with `bootCommand`. Imports nothing from `runtime/`.
 */
import { z } from "zod";
import { sshOptionsSchema, type SshOptions } from "../../../lang/communicator.js";
import type { Duration } from "../../../lang/duration.js";
import { definePlatform, type Input, type PathLike } from "../../../lang/index.js";
import { durationSchema, input, localPathSchema } from "../../../lang/schema.js";

/** Hardware acceleration. `auto` probes KVM (it must open *and* start a VM within a bound) and falls back to TCG with a warning. */
export type QemuAccelerator = "auto" | "kvm" | "tcg" | "hvf" | "whpx" | "none";

/** How the disk is attached to the VM. `virtio` is fastest; `ide` suits old installers. */
export type QemuDiskInterface = "virtio" | "virtio-scsi" | "scsi" | "ide";

/** The output disk format. */
export type QemuFormat = "qcow2" | "raw";

/** Boot firmware: legacy BIOS (SeaBIOS) or UEFI (OVMF). */
export type QemuFirmware =
  | "bios"
  | "uefi"
  | {
      /** OVMF code image. @default /usr/share/OVMF/OVMF_CODE_4M.fd (Debian's `ovmf`) */
      readonly code?: PathLike;
      /** Template of the UEFI variable store, copied per build. @default /usr/share/OVMF/OVMF_VARS_4M.fd */
      readonly vars?: PathLike;
    };

/** A port range `[min, max]`, both inclusive; a free port is picked from it. */
export type PortRange = readonly [number, number];

/**
 * Options of `qemu()`. One source: `isoUrl`, `sourceImage`, or the image's `from`. An image
 * built `from` another starts from an overlay on that image's disk and ignores the installer
 * options it may inherit (`isoUrl`, `sourceImage`, `bootCommand`).
 */
export interface QemuOptions {
  // --- where the machine starts from ----------------------------------------------------------
  /**
   * URL or local path of the installer ISO (or, with `diskImage: true`, of a qcow2/raw disk
   * image). `http(s)://` and `file://` URLs are downloaded once into `cacheDirectory`, keyed by
   * checksum; a plain path is relative to the file that wrote it.
   */
  readonly isoUrl?: string;
  /** Mirrors tried in order when `isoUrl` fails. */
  readonly isoUrls?: readonly string[];
  /**
   * Checksum of `isoUrl`, mandatory for downloads: `sha256:…`, `sha512:…`, `md5:…`, a bare hex
   * digest (the type from its length), `file:<url or path>` of a checksum file (`SHA256SUMS`
   * style, the line naming the ISO's file name), or `none` (only for local files).
   */
  readonly isoChecksum?: string;
  /** `isoUrl` is a bootable disk image, not an installer CD: it becomes the VM's disk. @default false */
  readonly diskImage?: boolean;
  /**
   * A local qcow2/raw disk image to start from (same as `isoUrl` + `diskImage: true`), relative
   * to the file that wrote it. Its content is part of the cache key: a changed disk rebuilds the
   * image. (Its digest is remembered in `.imgc/digests.json` while the file's size and times
   * stay the same, so a plan reads a large disk once, not every time.)
   */
  readonly sourceImage?: PathLike;
  /** Where downloads are cached, keyed by checksum. @default $XDG_CACHE_HOME/imgc/qemu (~/.cache/imgc/qemu) */
  readonly cacheDirectory?: string;

  // --- disk -------------------------------------------------------------------------------------
  /**
   * Build on a qcow2 overlay backed by the source disk instead of a full copy, so a derived
   * image starts in the same time whatever the base's size.
   * @default true
   */
  readonly useBackingFile?: boolean;
  /**
   * Keep the output as an overlay on its source (small, but needs the source next to it) instead
   * of writing a standalone disk. Needs `format: "qcow2"`.
   * @default false
   */
  readonly keepBackingFile?: boolean;
  /** Disk size: `"10G"`, `"512M"`, or a number of MiB. Grows a source image; sizes a blank disk. @default "10G" for a blank disk; the source's size otherwise */
  readonly diskSize?: string | number;
  /** Output format. @default "qcow2" */
  readonly format?: QemuFormat;
  /** Disk interface. @default "virtio" */
  readonly diskInterface?: QemuDiskInterface;
  /** QEMU cache mode of the disk. @default "writeback" */
  readonly diskCache?: "writeback" | "writethrough" | "none" | "unsafe" | "directsync";
  /** Pass guest discards (TRIM) to the disk file, keeping it sparse. @default "unmap" */
  readonly diskDiscard?: "unmap" | "ignore";
  /** Compress the qcow2 output (smaller, slower to write). @default false */
  readonly diskCompression?: boolean;
  /** Skip the final `qemu-img convert` that drops unused blocks (the output is the build disk as is). @default false */
  readonly skipCompaction?: boolean;

  // --- machine ----------------------------------------------------------------------------------
  /** Accelerator. @default "auto" */
  readonly accelerator?: QemuAccelerator;
  /** How long `auto` waits for a KVM test start before falling back to TCG. @default "3s" */
  readonly acceleratorProbeTimeout?: Duration;
  /** QEMU machine type (`-machine`). @default "pc" */
  readonly machineType?: string;
  /** CPU model (`-cpu`). @default "host" under KVM, "max" otherwise */
  readonly cpuModel?: string;
  /** Virtual CPUs. @default 1 (under TCG one vCPU boots faster than two) */
  readonly cpus?: number;
  /** Memory in MiB. @default 512 */
  readonly memory?: number;
  /** Network card model. @default "virtio-net-pci" */
  readonly netDevice?: string;
  /** Boot firmware. @default "bios" */
  readonly firmware?: QemuFirmware;
  /** Kernel for direct kernel boot (`-kernel`), relative to the file that wrote it. */
  readonly kernel?: PathLike;
  /** Initramfs for direct kernel boot (`-initrd`). */
  readonly initrd?: PathLike;
  /** Kernel command line for direct kernel boot (`-append`). */
  readonly append?: Input<string>;
  /** No display at all (`-display none`); false starts a VNC server on `vncBindAddress`. @default true */
  readonly headless?: boolean;
  /** Address the VNC server listens on when not headless. @default "127.0.0.1" */
  readonly vncBindAddress?: string;
  /** VNC ports to pick a free one from. @default [5900, 6000] */
  readonly vncPortRange?: PortRange;
  /** The QEMU program. @default "qemu-system-x86_64" */
  readonly qemuBinary?: string;
  /** The qemu-img program. @default "qemu-img" */
  readonly qemuImgBinary?: string;
  /** Extra QEMU arguments, appended as given (`[["-device", "virtio-rng-pci"]]`), the escape hatch. */
  readonly qemuargs?: readonly (readonly string[])[];
  /** Keep the guest's serial console output in this file (relative to the project root). @default only in the build's scratch directory */
  readonly serialLog?: string;

  // --- files for the guest ----------------------------------------------------------------------
  /** Files and directories put on a CD-ROM image attached to the VM (e.g. cloud-init `user-data`, `meta-data`). */
  readonly cdFiles?: readonly PathLike[];
  /** Files written on that CD-ROM from strings, name → content. */
  readonly cdContent?: Readonly<Record<string, Input<string>>>;
  /** Volume label of that CD-ROM. @default "cidata" (cloud-init NoCloud) */
  readonly cdLabel?: string;
  /** Files put on a FAT floppy attached to the VM (Windows answer files, kickstarts). */
  readonly floppyFiles?: readonly PathLike[];
  /** A directory served over HTTP to the guest during the build (preseed, kickstart files). */
  readonly httpDirectory?: PathLike;
  /** Files served over HTTP from strings, `/path` → content (instead of `httpDirectory`). */
  readonly httpContent?: Readonly<Record<string, Input<string>>>;
  /** Host ports to pick the HTTP server's from. The guest reaches it at `build("httpIp")`:`build("httpPort")` (10.0.2.2). @default [8000, 9000] */
  readonly httpPortRange?: PortRange;

  // --- boot command -----------------------------------------------------------------------------
  /**
   * Keys typed into the VM's console after `bootWait`, in Packer's syntax: plain text, and
   * `<enter>`, `<esc>`, `<tab>`, `<bs>`, `<del>`, `<spacebar>`, `<up>`…, `<f1>`…`<f12>`,
   * `<leftShiftOn>`/`<leftShiftOff>` (and Ctrl, Alt, Super), `<wait>`, `<wait5>`, `<wait1m>`.
   * `{{ .HTTPIP }}`, `{{ .HTTPPort }}` and `{{ .Name }}` are filled in.
   */
  readonly bootCommand?: readonly Input<string>[];
  /** Wait between the VM's start and typing `bootCommand`. @default "10s" when there is a boot command */
  readonly bootWait?: Duration;
  /** Pause between keys: the guest must consume each one. @default "75ms" */
  readonly bootKeyInterval?: Duration;

  // --- communicator and shutdown --------------------------------------------------------------
  /** How provisioners reach the VM: `ssh` over a forwarded host port, or `none` (no provisioners). @default "ssh" */
  readonly communicator?: "ssh" | "none";
  /** SSH options (user, password or key…); the host and port default to the forwarded port. */
  readonly ssh?: SshOptions;
  /** Host ports to pick the SSH forward from (user-mode networking `hostfwd`). @default [2222, 4444] */
  readonly sshHostPortRange?: PortRange;
  /** Command that powers the guest off (e.g. `"poweroff"`); without it imgc presses the ACPI power button (QMP `system_powerdown`). */
  readonly shutdownCommand?: Input<string>;
  /** How long the guest may take to power off before the VM is killed and the build fails. @default "5m" */
  readonly shutdownTimeout?: Duration;

  // --- output -----------------------------------------------------------------------------------
  /** Directory of the output disk, relative to the project root. @default "output/<image>" */
  readonly outputDirectory?: string;
  /** Base name of the VM and of the disk file (`<vmName>.<format>`). @default the image name */
  readonly vmName?: string;
}

const portRange = z
  .tuple([z.number().int().min(1).max(65535), z.number().int().min(1).max(65535)])
  .refine(([a, b]) => a <= b, { message: "the range's first port must not exceed the second" });
const pathLike = z.union([z.string(), z.instanceof(URL), localPathSchema]);
const diskSize = z.union([z.number().positive(), z.string().regex(/^\d+(\.\d+)?[KMGT]?i?B?$/i, 'expected a size such as "10G" or "512M"')]);

/** Runtime check of qemu options, for plain JavaScript users. */
export const qemuOptionsSchema = z
  .strictObject({
    isoUrl: z.union([z.string().min(1), localPathSchema]).optional(),
    isoUrls: z.array(z.string().min(1)).optional(),
    isoChecksum: z.string().optional(),
    diskImage: z.boolean().optional(),
    sourceImage: pathLike.optional(),
    cacheDirectory: z.string().optional(),
    useBackingFile: z.boolean().optional(),
    keepBackingFile: z.boolean().optional(),
    diskSize: diskSize.optional(),
    format: z.enum(["qcow2", "raw"]).optional(),
    diskInterface: z.enum(["virtio", "virtio-scsi", "scsi", "ide"]).optional(),
    diskCache: z.enum(["writeback", "writethrough", "none", "unsafe", "directsync"]).optional(),
    diskDiscard: z.enum(["unmap", "ignore"]).optional(),
    diskCompression: z.boolean().optional(),
    skipCompaction: z.boolean().optional(),
    accelerator: z.enum(["auto", "kvm", "tcg", "hvf", "whpx", "none"]).optional(),
    acceleratorProbeTimeout: durationSchema.optional(),
    machineType: z.string().optional(),
    cpuModel: z.string().optional(),
    cpus: z.number().int().positive().optional(),
    memory: z.number().int().positive().optional(),
    netDevice: z.string().optional(),
    firmware: z.union([z.enum(["bios", "uefi"]), z.strictObject({ code: pathLike.optional(), vars: pathLike.optional() })]).optional(),
    kernel: pathLike.optional(),
    initrd: pathLike.optional(),
    append: input(z.string()).optional(),
    headless: z.boolean().optional(),
    vncBindAddress: z.string().optional(),
    vncPortRange: portRange.optional(),
    qemuBinary: z.string().optional(),
    qemuImgBinary: z.string().optional(),
    qemuargs: z.array(z.array(z.string())).optional(),
    serialLog: z.string().optional(),
    cdFiles: z.array(pathLike).optional(),
    cdContent: z.record(z.string(), input(z.string())).optional(),
    cdLabel: z.string().max(32).optional(),
    floppyFiles: z.array(pathLike).optional(),
    httpDirectory: pathLike.optional(),
    httpContent: z.record(z.string(), input(z.string())).optional(),
    httpPortRange: portRange.optional(),
    bootCommand: z.array(input(z.string())).optional(),
    bootWait: durationSchema.optional(),
    bootKeyInterval: durationSchema.optional(),
    communicator: z.enum(["ssh", "none"]).optional(),
    // The factory records ssh.privateKeyFile as a local path (relative to the calling file).
    ssh: sshOptionsSchema.extend({ privateKeyFile: pathLike.optional() }).optional(),
    sshHostPortRange: portRange.optional(),
    shutdownCommand: input(z.string()).optional(),
    shutdownTimeout: durationSchema.optional(),
    outputDirectory: z.string().optional(),
    vmName: z.string().regex(/^[A-Za-z0-9._-]+$/, "vmName may hold only letters, digits, '.', '_' and '-'").optional(),
  })
  .refine((o) => !(o.isoUrl !== undefined && o.sourceImage !== undefined), { message: "set isoUrl or sourceImage, not both", path: ["sourceImage"] })
  .refine((o) => !(o.httpDirectory !== undefined && o.httpContent !== undefined), { message: "set httpDirectory or httpContent, not both", path: ["httpContent"] })
  .refine((o) => !(o.keepBackingFile === true && o.format === "raw"), { message: "keepBackingFile needs format: \"qcow2\"", path: ["keepBackingFile"] })
  .refine((o) => (o.communicator ?? "ssh") === "none" || o.ssh !== undefined, { message: "ssh options (at least ssh.username) are needed unless communicator is \"none\"", path: ["ssh"] })
  .refine((o) => o.isoUrl === undefined || o.diskImage === true || o.isoChecksum !== undefined, {
    message: "isoChecksum is mandatory with an installer isoUrl (sha256:…, file:<url>, or \"none\" for a local file)",
    path: ["isoChecksum"],
  });

/** A QEMU build: `qemu({ sourceImage: "./base.qcow2", ssh: { username: "root" } })`. */
export const qemu = definePlatform<"qemu", QemuOptions>({
  type: "qemu",
  driver: "imgc/drivers/qemu",
  version: 1,
  schema: qemuOptionsSchema,
  artifactFields: ["id", "path", "format", "sha256", "size"],
  // sourceImage is digested into the cache key like any path: a changed base disk means a
  // rebuild. Disks are gigabytes; the compiler remembers large files' digests between
  // compiles (.imgc/digests.json) while they are unchanged, so a plan does not read them again.
  pathOptions: ["sourceImage", "kernel", "initrd", "cdFiles", "floppyFiles", "httpDirectory", "firmware.code", "firmware.vars", "ssh.privateKeyFile"],
});
