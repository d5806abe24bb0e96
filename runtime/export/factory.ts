/**
 * Export post-processors (`imgc/post`): one QEMU build, exported offline to the disk and bundle
 * formats of other hypervisors and clouds (VirtualBox, VMware, Hyper-V, Parallels, Azure, GCE,
 * Vagrant) without any of them installed. Imports only `lang/`.
 *
 * Why one post-processor type per format, plus `exportImage({ formats })` on top: each format
 * makes its own artifact with its own options, so each is a separate `export-<format>` type with
 * a typed options object the IDE can complete; `exportImage` is the short form for the common
 * case "all of these, with the same VM settings", and expands to those same per-format specs.
 * Every export reads the original disk of the build, so the order of exports never matters.
 */
import { localPath, type LocalPath, type PathLike } from "../../lang/path.js";
import { makePost, type CommonPostOptions, type PostProcessorSpec } from "../../lang/post-processor.js";
import { fileURLToPath } from "node:url";
import { captureSite as captureFrom, type SourceSite } from "../../lang/site.js";

// The factories live here, beside their runtime, so the user's call is the first frame outside this folder too.
const factoryDir = fileURLToPath(new URL(".", import.meta.url));
const captureSite = () => captureFrom([factoryDir]);

/** Guest operating systems the exports know how to declare to each hypervisor. */
export type GuestOs = "debian" | "ubuntu" | "rhel" | "linux";

/** Options every export takes. */
export interface CommonExportOptions extends CommonPostOptions {
  /**
   * Directory the exported files are written in, relative to the file that wrote it (or a
   * `file:` URL). Created when missing. @default "output"
   */
  readonly directory?: PathLike;
  /**
   * Base name of the written files and the VM's name in the hypervisor: letters, digits, `.`,
   * `_` and `-`, at most 64 characters. @default the image name
   */
  readonly name?: string;
}

/** Virtual hardware of an exported VM (the hypervisor formats). */
export interface VmHardware {
  /** Virtual CPUs, 1 to 64. @default 1 */
  readonly cpus?: number;
  /** Memory in MiB, 64 to 1048576 (a multiple of 4). @default 1024 */
  readonly memory?: number;
  /** The guest OS, declared to the hypervisor as its own OS type. @default "debian" */
  readonly guestOs?: GuestOs;
  /** Firmware the disk boots with: `bios` (MBR/legacy) or `efi` (GPT + ESP). @default "bios" */
  readonly firmware?: "bios" | "efi";
  /**
   * MAC address of the first NIC, 12 hex digits (`:` or `-` separators allowed).
   * @default derived from the name (stable across runs), with the hypervisor's own vendor prefix
   */
  readonly mac?: string;
}

/** Options of `exportVirtualBox`. */
export interface VirtualBoxExportOptions extends CommonExportOptions, VmHardware {
  /** `ova`: one tar (descriptor, disk, manifest). `ovf`: the same files side by side. @default "ova" */
  readonly packaging?: "ova" | "ovf";
  /** Disk controller the disk hangs on. @default "sata" */
  readonly controller?: "sata" | "ide" | "scsi";
  /** NIC model. @default "e1000" */
  readonly nic?: "e1000" | "virtio" | "pcnet";
  /** VirtualBox OS type id, overriding the one `guestOs` picks (e.g. "Debian12_64"). */
  readonly osType?: string;
}

/** Options of `exportVmware`. */
export interface VmwareExportOptions extends CommonExportOptions, VmHardware {
  /**
   * `virtualHW.version`: 10 (ESXi 5.5, Workstation 10) up to 21. Lower runs on older products.
   * @default 14 (ESXi 6.7, Workstation 14, Fusion 10)
   */
  readonly hardwareVersion?: number;
  /**
   * VMDK subformat: `monolithicSparse` runs in Workstation/Fusion/Player as is;
   * `streamOptimized` is the compact form ESXi imports (ovftool, vmkfstools).
   * @default "monolithicSparse"
   */
  readonly diskFormat?: "monolithicSparse" | "streamOptimized";
  /** Disk controller. @default "lsilogic" */
  readonly controller?: "lsilogic" | "pvscsi" | "sata" | "ide";
  /** NIC model. @default "e1000" */
  readonly nic?: "e1000" | "e1000e" | "vmxnet3";
  /** How the NIC connects. @default "nat" */
  readonly network?: "nat" | "bridged" | "hostonly";
  /** VMware `guestOS` id, overriding the one `guestOs` picks (e.g. "debian12-64"). */
  readonly guestOsId?: string;
}

/** Options of `exportHyperv`. */
export interface HypervExportOptions extends CommonExportOptions, Omit<VmHardware, "firmware" | "mac"> {
  /** Hyper-V generation: 1 (BIOS, IDE boot disk) or 2 (UEFI, SCSI boot disk). @default 1 */
  readonly generation?: 1 | 2;
  /** Virtual switch the import script connects the NIC to. @default "Default Switch" */
  readonly switchName?: string;
  /** Generation 2 only: Secure Boot with the Microsoft UEFI CA (what Linux shims are signed with). @default false */
  readonly secureBoot?: boolean;
}

/** Options of `exportParallels`. */
export interface ParallelsExportOptions extends CommonExportOptions, VmHardware {}

/** Options of `exportAzure`. */
export interface AzureExportOptions extends CommonExportOptions {}

/** Options of `exportGce`. */
export interface GceExportOptions extends CommonExportOptions {
  /** gzip level, 1 (fastest) to 9 (smallest). @default 6 */
  readonly compressionLevel?: number;
}

/** Vagrant providers a box can be made for. */
export type VagrantProvider = "libvirt" | "virtualbox";

/** Options of `exportVagrant`. */
export interface VagrantExportOptions extends CommonExportOptions, VmHardware {
  /** One `.box` per provider. @default ["libvirt", "virtualbox"] */
  readonly providers?: readonly VagrantProvider[];
  /** gzip level of the box, 1 (fastest) to 9 (smallest). @default 6 */
  readonly compressionLevel?: number;
}

/** The formats `exportImage` knows, with the options each takes. */
export interface ExportFormatOptions {
  virtualbox: VirtualBoxExportOptions;
  vmware: VmwareExportOptions;
  hyperv: HypervExportOptions;
  parallels: ParallelsExportOptions;
  azure: AzureExportOptions;
  gce: GceExportOptions;
  vagrant: VagrantExportOptions;
}

/** A format `exportImage` can write. */
export type ExportFormat = keyof ExportFormatOptions;

/** Every export format, in the order `exportImage` writes them. */
export const EXPORT_FORMATS: readonly ExportFormat[] = ["virtualbox", "vmware", "hyperv", "parallels", "azure", "gce", "vagrant"];

/** The post-processor type of each format. */
export type ExportPostType<F extends ExportFormat = ExportFormat> = `export-${F}`;

/** The options as they reach the runtime: `directory` recorded as a local path. */
export type ResolvedExportOptions<F extends ExportFormat> = Omit<ExportFormatOptions[F], "directory" | "only" | "except"> & { directory: LocalPath };

/** Options of `exportImage`. */
export interface ExportImageOptions extends CommonExportOptions, VmHardware {
  /** The formats to write; each becomes its own artifact. */
  readonly formats: readonly ExportFormat[];
  /** Extra options of the VirtualBox export. */
  readonly virtualbox?: Omit<VirtualBoxExportOptions, keyof CommonPostOptions>;
  /** Extra options of the VMware export. */
  readonly vmware?: Omit<VmwareExportOptions, keyof CommonPostOptions>;
  /** Extra options of the Hyper-V export. */
  readonly hyperv?: Omit<HypervExportOptions, keyof CommonPostOptions>;
  /** Extra options of the Parallels export. */
  readonly parallels?: Omit<ParallelsExportOptions, keyof CommonPostOptions>;
  /** Extra options of the Azure export. */
  readonly azure?: Omit<AzureExportOptions, keyof CommonPostOptions>;
  /** Extra options of the GCE export. */
  readonly gce?: Omit<GceExportOptions, keyof CommonPostOptions>;
  /** Extra options of the Vagrant export. */
  readonly vagrant?: Omit<VagrantExportOptions, keyof CommonPostOptions>;
}

function makeExport<F extends ExportFormat>(format: F, options: ExportFormatOptions[F], site: SourceSite): PostProcessorSpec<ExportPostType<F>, ResolvedExportOptions<F>> {
  if (!EXPORT_FORMATS.includes(format)) {
    throw new TypeError(`unknown export format ${JSON.stringify(format)}: use one of ${EXPORT_FORMATS.join(", ")}`);
  }
  const withPath = { ...options, directory: localPath(options.directory ?? "output", site) };
  return makePost(`export-${format}` as ExportPostType<F>, withPath, site) as PostProcessorSpec<ExportPostType<F>, ResolvedExportOptions<F>>;
}

/** Exports the build's disk as a VirtualBox appliance: an OVA (OVF 1.0 + streamOptimized VMDK + SHA256 manifest), or `.ovf` + files. */
export function exportVirtualBox(options: VirtualBoxExportOptions = {}) {
  return makeExport("virtualbox", options, captureSite());
}

/** Exports the build's disk as a VMware bundle: a `.vmx` and its VMDK (Workstation, Fusion, Player; importable by ESXi). */
export function exportVmware(options: VmwareExportOptions = {}) {
  return makeExport("vmware", options, captureSite());
}

/** Exports the build's disk as a dynamic VHDX and a PowerShell script that imports it into Hyper-V (`New-VM … -VHDPath`). */
export function exportHyperv(options: HypervExportOptions = {}) {
  return makeExport("hyperv", options, captureSite());
}

/** Exports the build's disk as a Parallels Desktop `.pvm` bundle (config.pvs and a Parallels-format disk). */
export function exportParallels(options: ParallelsExportOptions = {}) {
  return makeExport("parallels", options, captureSite());
}

/** Exports the build's disk as the fixed VHD Azure uploads take (virtual size rounded up to a whole MiB). */
export function exportAzure(options: AzureExportOptions = {}) {
  return makeExport("azure", options, captureSite());
}

/** Exports the build's disk as `disk.raw` in a gzip'd GNU tar, the file `gcloud compute images create` imports. */
export function exportGce(options: GceExportOptions = {}) {
  return makeExport("gce", options, captureSite());
}

/** Exports the build's disk as Vagrant boxes, one per provider (libvirt, virtualbox). */
export function exportVagrant(options: VagrantExportOptions = {}) {
  return makeExport("vagrant", options, captureSite());
}

/**
 * Exports the build's disk to several formats at once, with the same name, directory and VM
 * settings: `exportImage({ formats: ["virtualbox", "vmware", "azure"], cpus: 2, memory: 2048 })`.
 * Returns one post-processor per format (each makes its own artifact); per-format options go
 * under the format's key (`vmware: { hardwareVersion: 19 }`).
 */
export function exportImage(options: ExportImageOptions) {
  const site = captureSite();
  const { formats, virtualbox, vmware, hyperv, parallels, azure, gce, vagrant, ...shared } = options;
  if (!Array.isArray(formats) || formats.length === 0) {
    throw new TypeError("exportImage needs `formats`: a non-empty list of " + EXPORT_FORMATS.join(", "));
  }
  const seen = new Set<string>();
  const perFormat: { [F in ExportFormat]?: object } = { virtualbox, vmware, hyperv, parallels, azure, gce, vagrant };
  const { cpus, memory, guestOs, firmware, mac, ...common } = shared;
  const hardware = { cpus, memory, guestOs, firmware, mac };
  const specs: PostProcessorSpec[] = [];
  for (const format of formats as readonly ExportFormat[]) {
    if (seen.has(format)) throw new TypeError(`exportImage: format ${JSON.stringify(format)} is listed twice`);
    seen.add(format);
    const own = format === "azure" || format === "gce" ? {} : format === "hyperv" ? { cpus, memory, guestOs } : hardware;
    const merged = dropUndefined({ ...common, ...own, ...(perFormat[format] ?? {}) });
    specs.push(makeExport(format, merged as never, site));
  }
  return specs;
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
