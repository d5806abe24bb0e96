/**
 * The driver's view of a node's options: resolved, defaults applied, local paths absolute.
 * Local paths arrive as the compiler's `{ "$path": … }` markers (or, from tests that skip the
 * compiler, as plain strings relative to the project root).
 */
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { parseDuration, type Duration } from "../../../lang/duration.js";
import type { SshOptions } from "../../../lang/communicator.js";
import type { QemuAccelerator, QemuDiskInterface, QemuFormat, QemuOptions, PortRange } from "./factory.js";

/** QEMU options with every default filled in and paths made absolute. */
export interface QemuConfig {
  readonly nodeId: string;
  readonly imageName: string;
  readonly isoUrls: readonly string[];
  readonly isoChecksum?: string;
  /** The source is a disk image (not an installer CD). */
  readonly diskImage: boolean;
  /** A local disk image to start from (sourceImage, or the upstream artifact). */
  readonly sourceImage?: string;
  readonly cacheDirectory: string;
  readonly useBackingFile: boolean;
  readonly keepBackingFile: boolean;
  /** Bytes, when given. */
  readonly diskSize?: number;
  readonly format: QemuFormat;
  readonly diskInterface: QemuDiskInterface;
  readonly diskCache: string;
  readonly diskDiscard: string;
  readonly diskCompression: boolean;
  readonly skipCompaction: boolean;
  readonly accelerator: QemuAccelerator;
  readonly acceleratorProbeTimeoutMs: number;
  readonly machineType: string;
  readonly cpuModel?: string;
  readonly cpus: number;
  readonly memory: number;
  readonly netDevice: string;
  readonly firmware: { readonly kind: "bios" } | { readonly kind: "uefi"; readonly code: string; readonly vars: string };
  readonly kernel?: string;
  readonly initrd?: string;
  readonly append?: string;
  readonly headless: boolean;
  readonly vncBindAddress: string;
  readonly vncPortRange: PortRange;
  readonly qemuBinary: string;
  readonly qemuImgBinary: string;
  readonly qemuargs: readonly (readonly string[])[];
  readonly serialLog?: string;
  readonly cdFiles: readonly string[];
  readonly cdContent: Readonly<Record<string, string>>;
  readonly cdLabel: string;
  readonly floppyFiles: readonly string[];
  readonly httpDirectory?: string;
  readonly httpContent?: Readonly<Record<string, string>>;
  readonly httpPortRange: PortRange;
  readonly bootCommand: readonly string[];
  readonly bootWaitMs: number;
  readonly bootKeyIntervalMs: number;
  readonly communicator: "ssh" | "none";
  readonly ssh?: SshOptions;
  readonly sshHostPortRange: PortRange;
  readonly shutdownCommand?: string;
  readonly shutdownTimeoutMs: number;
  readonly outputDirectory: string;
  readonly vmName: string;
}

type PathValue = string | { readonly $path: string } | { readonly path: string; readonly base: string } | undefined;

/** An absolute path from a `$path` marker, a recorded LocalPath, or a string relative to `root`. */
export function localFile(value: PathValue | unknown, root: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") {
    if (value.startsWith("file://")) return new URL(value).pathname;
    return isAbsolute(value) ? value : resolve(root, value);
  }
  if (typeof value === "object" && "$path" in (value as object)) return (value as { $path: string }).$path;
  if (typeof value === "object" && "path" in (value as object) && "base" in (value as object)) {
    const v = value as { path: string; base: string };
    return isAbsolute(v.path) ? v.path : resolve(v.base, v.path);
  }
  throw new Error(`expected a local path, got ${JSON.stringify(value)}`);
}

/** Bytes of a size like `"10G"`, `"512M"`, `"1.5GiB"`, or a number of MiB. */
export function parseSize(value: string | number): number {
  if (typeof value === "number") return Math.round(value * 1024 * 1024);
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?$/i.exec(value.trim());
  if (!m) throw new Error(`disk size "${value}" is not valid: write e.g. "10G", "512M" or a number of MiB`);
  const unit = { "": 1024 * 1024, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[2]!.toUpperCase() as "" | "K" | "M" | "G" | "T"];
  return Math.round(Number(m[1]) * unit);
}

/** The default cache directory for downloads. */
export function defaultCacheDirectory(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "imgc", "qemu");
}

const ms = (d: Duration | undefined, fallback: string): number => parseDuration((d ?? fallback) as Duration);

/**
 * Normalises resolved options. `upstreamDisk` is the upstream image's disk when the node has
 * `from` (it then becomes the source image).
 */
export function makeConfig(options: QemuOptions, args: { nodeId: string; imageName: string; projectRoot: string; upstreamDisk?: string }): QemuConfig {
  const root = args.projectRoot;
  const o = options;
  const isoUrl = o.isoUrl === undefined ? undefined : typeof o.isoUrl === "string" ? o.isoUrl : localFile(o.isoUrl, root);
  const isoUrls = [...(isoUrl !== undefined ? [isoUrl] : []), ...(o.isoUrls ?? [])].map((u) =>
    /^[a-z][a-z0-9+.-]*:\/\//i.test(u) ? u : (localFile(u, root) as string),
  );
  // A node built `from` another image starts from that image's disk, whatever its (possibly
  // inherited) installer options say: the installer already ran for the base.
  const derived = args.upstreamDisk !== undefined;
  const sourceImage = args.upstreamDisk ?? localFile(o.sourceImage, root);
  const diskImage = o.diskImage === true || sourceImage !== undefined;
  if (isoUrls.length === 0 && sourceImage === undefined && o.kernel === undefined) {
    throw new Error(`${args.nodeId}: qemu needs a source: isoUrl, sourceImage, \`from\` another image, or a kernel for direct boot`);
  }
  const fw = o.firmware ?? "bios";
  const firmware: QemuConfig["firmware"] =
    fw === "bios"
      ? { kind: "bios" }
      : {
          kind: "uefi",
          code: (typeof fw === "object" ? localFile(fw.code, root) : undefined) ?? "/usr/share/OVMF/OVMF_CODE_4M.fd",
          vars: (typeof fw === "object" ? localFile(fw.vars, root) : undefined) ?? "/usr/share/OVMF/OVMF_VARS_4M.fd",
        };
  const vmName = o.vmName ?? args.imageName;
  return {
    nodeId: args.nodeId,
    imageName: args.imageName,
    isoUrls: derived || (sourceImage !== undefined && o.isoUrl === undefined) ? [] : isoUrls,
    isoChecksum: o.isoChecksum,
    diskImage,
    sourceImage,
    cacheDirectory: o.cacheDirectory ? resolve(root, o.cacheDirectory) : defaultCacheDirectory(),
    useBackingFile: o.useBackingFile ?? true,
    keepBackingFile: o.keepBackingFile ?? false,
    diskSize: o.diskSize !== undefined ? parseSize(o.diskSize) : undefined,
    format: o.format ?? "qcow2",
    diskInterface: o.diskInterface ?? "virtio",
    diskCache: o.diskCache ?? "writeback",
    diskDiscard: o.diskDiscard ?? "unmap",
    diskCompression: o.diskCompression ?? false,
    skipCompaction: o.skipCompaction ?? false,
    accelerator: o.accelerator ?? "auto",
    acceleratorProbeTimeoutMs: ms(o.acceleratorProbeTimeout, "2s"),
    machineType: o.machineType ?? "pc",
    cpuModel: o.cpuModel,
    cpus: o.cpus ?? 1,
    memory: o.memory ?? 512,
    netDevice: o.netDevice ?? "virtio-net-pci",
    firmware,
    kernel: localFile(o.kernel, root),
    initrd: localFile(o.initrd, root),
    append: o.append as string | undefined,
    headless: o.headless ?? true,
    vncBindAddress: o.vncBindAddress ?? "127.0.0.1",
    vncPortRange: o.vncPortRange ?? [5900, 6000],
    qemuBinary: o.qemuBinary ?? "qemu-system-x86_64",
    qemuImgBinary: o.qemuImgBinary ?? "qemu-img",
    qemuargs: o.qemuargs ?? [],
    serialLog: o.serialLog ? resolve(root, o.serialLog) : undefined,
    cdFiles: (o.cdFiles ?? []).map((p) => localFile(p, root) as string),
    cdContent: (o.cdContent ?? {}) as Record<string, string>,
    cdLabel: o.cdLabel ?? "cidata",
    floppyFiles: (o.floppyFiles ?? []).map((p) => localFile(p, root) as string),
    httpDirectory: localFile(o.httpDirectory, root),
    httpContent: o.httpContent as Record<string, string> | undefined,
    httpPortRange: o.httpPortRange ?? [8000, 9000],
    bootCommand: derived ? [] : ((o.bootCommand ?? []) as string[]),
    bootWaitMs: derived ? 0 : ms(o.bootWait, o.bootCommand?.length ? "10s" : "0s"),
    bootKeyIntervalMs: ms(o.bootKeyInterval, "75ms"),
    communicator: o.communicator ?? "ssh",
    ssh: o.ssh,
    sshHostPortRange: o.sshHostPortRange ?? [2222, 4444],
    shutdownCommand: o.shutdownCommand as string | undefined,
    shutdownTimeoutMs: ms(o.shutdownTimeout, "5m"),
    outputDirectory: resolve(root, o.outputDirectory ?? join("output", args.imageName)),
    vmName,
  };
}
