/**
 * VirtualBox export: an OVF 1.0 appliance. The disk becomes a streamOptimized VMDK; the
 * descriptor (CPUs, memory, controller, NIC, OS type) is written with xmlbuilder2; a manifest
 * lists the SHA-256 of the descriptor and the disk. `ova` packs the three into one tar,
 * descriptor first (OVF's rule for streaming import), `ovf` leaves them side by side.
 */
import { readFile, writeFile } from "node:fs/promises";
import type { ExportImpl } from "./types.js";
import { describeFile } from "./support/files.js";
import { buildManifest, buildOvf, checkManifest, checkOvf } from "./support/ovf.js";
import { convert } from "./support/qemu-img.js";
import { runExport } from "./support/run.js";
import { CIM_OS, hardware, VIRTUALBOX_OS, type Hardware } from "./support/settings.js";
import type { ExportJob } from "./support/run.js";
import { listTar, writeTar } from "./support/tar.js";
import { checkVmdk } from "./support/vmdk.js";
import { exportError } from "./support/errors.js";

/** VirtualBox's MAC vendor prefix. */
const VIRTUALBOX_OUI = "080027";

/** The controller's VMDK adapter type hint. */
const ADAPTER = { sata: "ide", ide: "ide", scsi: "lsilogic" } as const;

/** Writes the OVF package files (descriptor, VMDK, manifest) into the staging directory; shared with the Vagrant export. */
export async function writeOvfPackage(
  job: ExportJob,
  o: { name: string; hw: Hardware; controller: "sata" | "ide" | "scsi"; nic: "e1000" | "virtio" | "pcnet"; osType: string; ovfName: string; vmdkName: string; mfName: string; at: (file: string) => string },
) {
  const { source, ctx } = job;
  const at = o.at;
  const vmdk = at(o.vmdkName);
  await convert(source, { path: vmdk, format: "vmdk", options: ["subformat=streamOptimized", `adapter_type=${ADAPTER[o.controller]}`] }, ctx.signal);
  const problems = await checkVmdk(vmdk, { createType: "streamOptimized", virtualSize: source.virtualSize });
  const disk = await describeFile(vmdk, ctx.signal);
  const xml = buildOvf({
    name: o.name, hardware: o.hw, cimOs: CIM_OS[o.hw.guestOs], vboxOsType: o.osType, controller: o.controller, nic: o.nic,
    disk: { href: o.vmdkName, size: disk.size, capacity: source.virtualSize },
  });
  await writeFile(at(o.ovfName), xml);
  const ovf = await describeFile(at(o.ovfName), ctx.signal);
  const sums = [{ name: o.ovfName, sha256: ovf.sha256 }, { name: o.vmdkName, sha256: disk.sha256 }];
  await writeFile(at(o.mfName), buildManifest(sums));
  problems.push(...checkOvf(xml, [{ name: o.vmdkName, size: disk.size }]));
  problems.push(...checkManifest(await readFile(at(o.mfName), "utf8"), sums));
  return { problems, disk, ovf };
}

/** The `export-virtualbox` post-processor. */
export const virtualbox: ExportImpl<"virtualbox"> = {
  type: "export-virtualbox",
  run: (artifact, options, ctx) =>
    runExport("virtualbox", artifact, options, ctx, async (job) => {
      const { name, staging } = job;
      const packaging = options.packaging ?? "ova";
      const controller = options.controller ?? "sata";
      const nic = options.nic ?? "e1000";
      if (!["ova", "ovf"].includes(packaging)) throw exportError(`packaging must be "ova" or "ovf", got ${JSON.stringify(packaging)}`);
      if (!["sata", "ide", "scsi"].includes(controller)) throw exportError(`controller must be sata, ide or scsi, got ${JSON.stringify(controller)}`);
      if (!["e1000", "virtio", "pcnet"].includes(nic)) throw exportError(`nic must be e1000, virtio or pcnet, got ${JSON.stringify(nic)}`);
      const hw = hardware(options, name, VIRTUALBOX_OUI);
      if (hw.firmware === "efi") job.ctx.log.log("warn", "export virtualbox: OVF 1.0 cannot declare EFI firmware; enable EFI in the VM's settings after import");
      const files = { ovfName: `${name}.ovf`, vmdkName: `${name}-disk001.vmdk`, mfName: `${name}.mf` };
      const { problems } = await writeOvfPackage(job, { name, hw, controller, nic, osType: options.osType ?? VIRTUALBOX_OS[hw.guestOs], ...files, at: (f) => staging.file(f) });
      const order = [files.ovfName, files.vmdkName, files.mfName];
      const details = { packaging, ovf: files.ovfName, disk: files.vmdkName, manifest: files.mfName, controller, nic, mac: hw.mac };
      if (packaging === "ovf") {
        return { entries: order, main: files.ovfName, virtualSize: job.source.virtualSize, details, problems };
      }
      const ova = `${name}.ova`;
      await writeTar(staging.file(ova), order.map((n) => ({ name: n, file: staging.file(n) })), { signal: job.ctx.signal });
      const listed = (await listTar(staging.file(ova))).map((e) => e.name);
      if (listed.join("/") !== order.join("/")) problems.push(`OVA members are ${listed.join(", ")}, expected ${order.join(", ")} (descriptor first)`);
      return { entries: [ova], main: ova, virtualSize: job.source.virtualSize, details, problems };
    }),
};
