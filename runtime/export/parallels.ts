/**
 * Parallels export: a `<name>.pvm` bundle — `config.pvs` (CPUs, memory, OS, disk, NIC) and the
 * disk as Parallels keeps it, a `<name>.hdd/` directory with DiskDescriptor.xml and the data
 * file in Parallels' expanding format (qemu-img's `parallels` driver). Both XML files are
 * written with xmlbuilder2.
 */
import { randomUUID } from "node:crypto";
import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import { create } from "xmlbuilder2";
import type { ExportImpl } from "./types.js";
import { buildDiskDescriptor, checkParallelsImage, CLUSTER_SECTORS, hdsName } from "./support/parallels-disk.js";
import { convert } from "./support/qemu-img.js";
import { runExport } from "./support/run.js";
import { hardware, MiB, PARALLELS_OS, type Hardware } from "./support/settings.js";

/** Parallels' MAC vendor prefix. */
const PARALLELS_OUI = "001C42";

/** config.pvs for one disk and one NIC. */
export function buildConfigPvs(o: { name: string; uuid: string; diskUuid: string; hw: Hardware; osNumber: number; hdd: string; sizeMiB: number }): string {
  const vm = create({ version: "1.0", encoding: "UTF-8" }).ele("ParallelsVirtualMachine", { schemaVersion: "1.0", dyn_lists: "VirtualAppliance 0" });
  vm.ele("AppVersion").txt("10.3.0-29227");
  const id = vm.ele("Identification", { dyn_lists: "" });
  id.ele("VmUuid").txt(`{${o.uuid}}`);
  id.ele("VmName").txt(o.name);
  const settings = vm.ele("Settings", { dyn_lists: "" });
  const general = settings.ele("General", { dyn_lists: "" });
  general.ele("OsType").txt("9"); // Linux
  general.ele("OsNumber").txt(String(o.osNumber));
  const startup = settings.ele("Startup", { dyn_lists: "" });
  const boot = startup.ele("BootingOrder", { dyn_lists: "BootDevice 1" }).ele("BootDevice", { id: "0", dyn_lists: "" });
  boot.ele("Index").txt("0");
  boot.ele("Type").txt("6"); // hard disk
  boot.ele("BootingNumber").txt("0");
  boot.ele("InUse").txt("1");
  startup.ele("Bios", { dyn_lists: "" }).ele("EfiEnabled").txt(o.hw.firmware === "efi" ? "1" : "0");
  const hw = vm.ele("Hardware", { dyn_lists: "Fdd 0 CdRom 0 Hdd 1 Serial 0 Parallel 0 Printer 0 NetworkAdapter 1 Sound 0 USB 0 PciVideoAdapter 0 GenericDevice 0 GenericPciDevice 0 GenericScsiDevice 0" });
  hw.ele("Cpu", { dyn_lists: "" }).ele("Number").txt(String(o.hw.cpus));
  hw.ele("Memory", { dyn_lists: "" }).ele("RAM").txt(String(o.hw.memory));
  const hdd = hw.ele("Hdd", { id: "0", dyn_lists: "Partition 0" });
  for (const [k, v] of [
    ["Uuid", `{${o.diskUuid}}`], ["Index", "0"], ["Enabled", "1"], ["Connected", "1"], ["EmulatedType", "1"],
    ["SystemName", o.hdd], ["UserFriendlyName", o.hdd], ["Remote", "0"], ["InterfaceType", "2"], ["StackIndex", "0"],
    ["DiskType", "1"], ["Size", String(o.sizeMiB)], ["Splitted", "0"], ["DiskVersion", "2"], ["CompatLevel", "level2"],
  ] as const) hdd.ele(k).txt(v);
  const net = hw.ele("NetworkAdapter", { id: "0", dyn_lists: "NetAddress DnsIPAddress SearchDomain" });
  for (const [k, v] of [
    ["Index", "0"], ["Enabled", "1"], ["Connected", "1"], ["EmulatedType", "1"], ["SystemName", "eth0"], ["UserFriendlyName", "eth0"],
    ["AdapterNumber", "-1"], ["AdapterName", "Default Adapter"], ["MAC", o.hw.mac], ["AdapterType", "3"],
  ] as const) net.ele(k).txt(v);
  return vm.end({ prettyPrint: true });
}

/** Checks a bundle's config.pvs against its disk: the Hdd's directory, descriptor, data file and sizes. Returns the problems. */
export async function checkPvmBundle(bundle: string, virtualSize: number): Promise<string[]> {
  const problems: string[] = [];
  const cfg = create(await readFile(`${bundle}/config.pvs`, "utf8")).end({ format: "object" }) as any;
  const root = cfg.ParallelsVirtualMachine;
  if (!root) return ["config.pvs has no ParallelsVirtualMachine root"];
  if (!/^\{[0-9a-f-]{36}\}$/.test(root.Identification?.VmUuid ?? "")) problems.push("config.pvs has no VmUuid");
  if (!root.Identification?.VmName) problems.push("config.pvs has no VmName");
  const cpus = Number(root.Hardware?.Cpu?.Number);
  const ram = Number(root.Hardware?.Memory?.RAM);
  if (!(cpus >= 1)) problems.push("config.pvs has no CPU count");
  if (!(ram >= 64)) problems.push("config.pvs has no memory size");
  const hdd = root.Hardware?.Hdd;
  if (!hdd?.SystemName) return [...problems, "config.pvs has no Hdd"];
  if (Number(hdd.Size) !== Math.ceil(virtualSize / MiB)) problems.push(`config.pvs Hdd Size is ${hdd.Size} MiB, the disk has ${Math.ceil(virtualSize / MiB)}`);
  const dd = create(await readFile(`${bundle}/${hdd.SystemName}/DiskDescriptor.xml`, "utf8")).end({ format: "object" }) as any;
  const params = dd.Parallels_disk_image?.Disk_Parameters;
  const storage = dd.Parallels_disk_image?.StorageData?.Storage;
  if (Number(params?.Disk_size) * 512 !== virtualSize) problems.push(`DiskDescriptor Disk_size is ${params?.Disk_size} sectors, the disk has ${virtualSize / 512}`);
  if (Number(storage?.Blocksize) !== CLUSTER_SECTORS) problems.push(`DiskDescriptor Blocksize is ${storage?.Blocksize}, expected ${CLUSTER_SECTORS}`);
  const file = storage?.Image?.File;
  try {
    await access(`${bundle}/${hdd.SystemName}/${file}`);
    problems.push(...(await checkParallelsImage(`${bundle}/${hdd.SystemName}/${file}`, virtualSize)));
  } catch {
    problems.push(`DiskDescriptor names ${file}, which is not in ${hdd.SystemName}`);
  }
  return problems;
}

/** The `export-parallels` post-processor. */
export const parallels: ExportImpl<"parallels"> = {
  type: "export-parallels",
  run: (artifact, options, ctx) =>
    runExport("parallels", artifact, options, ctx, async ({ source, name, staging }) => {
      const hw = hardware(options, name, PARALLELS_OUI);
      const bundle = `${name}.pvm`;
      const hdd = `${name}.hdd`;
      await mkdir(staging.file(bundle, hdd), { recursive: true });
      const data = staging.file(bundle, hdd, hdsName(hdd));
      await convert(source, { path: data, format: "parallels", options: [`cluster_size=${CLUSTER_SECTORS * 512}`] }, ctx.signal);
      // Parallels Desktop expects an (empty) file named like the disk directory beside the descriptor.
      await writeFile(staging.file(bundle, hdd, hdd), "");
      await writeFile(staging.file(bundle, hdd, "DiskDescriptor.xml"), buildDiskDescriptor({ disk: hdd, virtualSize: source.virtualSize, uid: randomUUID(), name }));
      await writeFile(staging.file(bundle, "config.pvs"), buildConfigPvs({ name, uuid: randomUUID(), diskUuid: randomUUID(), hw, osNumber: PARALLELS_OS[hw.guestOs], hdd, sizeMiB: Math.ceil(source.virtualSize / MiB) }));
      const problems = await checkPvmBundle(staging.file(bundle), source.virtualSize);
      return {
        entries: [bundle],
        main: bundle,
        virtualSize: source.virtualSize,
        details: { config: "config.pvs", disk: `${hdd}/${hdsName(hdd)}`, mac: hw.mac },
        problems,
      };
    }),
};
