/**
 * VMware export: a directory `<name>-vmware/` with `<name>.vmx` (hardware version, guest OS,
 * memory, CPUs, controller, disk, NIC) and `<name>.vmdk` (monolithicSparse, or streamOptimized
 * for ESXi import). Workstation, Fusion and Player open the .vmx as is.
 */
import { readFile, mkdir, writeFile } from "node:fs/promises";
import type { ExportImpl } from "./types.js";
import { exportError } from "./support/errors.js";
import { convert } from "./support/qemu-img.js";
import { runExport } from "./support/run.js";
import { formatMac, hardware, VMWARE_OS } from "./support/settings.js";
import { checkVmdk } from "./support/vmdk.js";
import { checkVmx, HW_VERSIONS, parseVmx, renderVmx } from "./support/vmx.js";

/** VMware's MAC vendor prefix (static range). */
const VMWARE_OUI = "005056";

const CONTROLLERS = {
  lsilogic: { bus: "scsi0", virtualDev: "lsilogic", adapter: "lsilogic" },
  pvscsi: { bus: "scsi0", virtualDev: "pvscsi", adapter: "lsilogic" },
  sata: { bus: "sata0", virtualDev: undefined, adapter: "ide" },
  ide: { bus: "ide0", virtualDev: undefined, adapter: "ide" },
} as const;

/** The `export-vmware` post-processor. */
export const vmware: ExportImpl<"vmware"> = {
  type: "export-vmware",
  run: (artifact, options, ctx) =>
    runExport("vmware", artifact, options, ctx, async ({ source, name, staging }) => {
      const hwVersion = options.hardwareVersion ?? 14;
      const diskFormat = options.diskFormat ?? "monolithicSparse";
      const controllerName = options.controller ?? "lsilogic";
      const nic = options.nic ?? "e1000";
      const network = options.network ?? "nat";
      if (!Number.isInteger(hwVersion) || hwVersion < HW_VERSIONS.min || hwVersion > HW_VERSIONS.max) {
        throw exportError(`hardwareVersion must be from ${HW_VERSIONS.min} to ${HW_VERSIONS.max}, got ${hwVersion}`);
      }
      if (diskFormat !== "monolithicSparse" && diskFormat !== "streamOptimized") throw exportError(`diskFormat must be monolithicSparse or streamOptimized, got ${JSON.stringify(diskFormat)}`);
      const controller = CONTROLLERS[controllerName];
      if (!controller) throw exportError(`controller must be lsilogic, pvscsi, sata or ide, got ${JSON.stringify(controllerName)}`);
      if (!["e1000", "e1000e", "vmxnet3"].includes(nic)) throw exportError(`nic must be e1000, e1000e or vmxnet3, got ${JSON.stringify(nic)}`);
      if (!["nat", "bridged", "hostonly"].includes(network)) throw exportError(`network must be nat, bridged or hostonly, got ${JSON.stringify(network)}`);
      if (controllerName === "sata" && hwVersion < 10) throw exportError("a SATA controller needs hardwareVersion 10 or later");
      const hw = hardware(options, name, VMWARE_OUI);
      if (hw.firmware === "efi" && hwVersion < 11) throw exportError("EFI firmware needs hardwareVersion 11 or later");

      const dir = `${name}-vmware`;
      const vmdkName = `${name}.vmdk`;
      await mkdir(staging.file(dir));
      const vmdk = staging.file(dir, vmdkName);
      await convert(source, { path: vmdk, format: "vmdk", options: [`subformat=${diskFormat}`, `adapter_type=${controller.adapter}`] }, ctx.signal);
      const problems = await checkVmdk(vmdk, { createType: diskFormat, virtualSize: source.virtualSize, adapterType: controller.adapter });

      const dev = `${controller.bus}:0`;
      const entries: [string, string | number | boolean][] = [
        [".encoding", "UTF-8"],
        ["config.version", "8"],
        ["virtualHW.version", String(hwVersion)],
        ["displayName", name],
        ["guestOS", options.guestOsId ?? VMWARE_OS[hw.guestOs]],
        ["memsize", String(hw.memory)],
        ["numvcpus", String(hw.cpus)],
        ...(hw.firmware === "efi" ? [["firmware", "efi"] as [string, string]] : []),
        // PCI bridges: where VMware puts PCIe devices (vmxnet3, pvscsi) on hardware 7 and later.
        ["pciBridge0.present", true],
        ["pciBridge4.present", true],
        ["pciBridge4.virtualDev", "pcieRootPort"],
        ["pciBridge4.functions", "8"],
        [`${controller.bus}.present`, true],
        ...(controller.virtualDev ? [[`${controller.bus}.virtualDev`, controller.virtualDev] as [string, string]] : []),
        [`${dev}.present`, true],
        [`${dev}.fileName`, vmdkName],
        ["ethernet0.present", true],
        ["ethernet0.connectionType", network],
        ["ethernet0.virtualDev", nic],
        ["ethernet0.addressType", "static"],
        ["ethernet0.address", formatMac(hw.mac)],
        ["tools.syncTime", false],
        ["floppy0.present", false],
      ];
      const vmxName = `${name}.vmx`;
      await writeFile(staging.file(dir, vmxName), renderVmx(entries));
      problems.push(...checkVmx(parseVmx(await readFile(staging.file(dir, vmxName), "utf8")), vmdkName));
      return {
        entries: [dir],
        main: `${dir}/${vmxName}`,
        virtualSize: source.virtualSize,
        details: { vmx: vmxName, disk: vmdkName, diskFormat, hardwareVersion: hwVersion, controller: controllerName, nic, mac: hw.mac },
        problems,
      };
    }),
};
