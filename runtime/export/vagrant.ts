/**
 * Vagrant export: one `.box` per provider, a gzip'd tar with `metadata.json`, a `Vagrantfile`
 * and the disk. libvirt: `box.img` (qcow2) with its virtual size in GB; virtualbox: `box.ovf`
 * + VMDK + manifest (the VirtualBox export's package) and the NIC's MAC as `base_mac`.
 */
import { mkdir, writeFile } from "node:fs/promises";
import type { VagrantProvider } from "./factory.js";
import type { ExportImpl } from "./types.js";
import { exportError } from "./support/errors.js";
import { convert, diskInfo } from "./support/qemu-img.js";
import { runExport } from "./support/run.js";
import { GiB, hardware, VIRTUALBOX_OS } from "./support/settings.js";
import { listTar, writeTar } from "./support/tar.js";
import { writeOvfPackage } from "./virtualbox.js";

const PROVIDERS: readonly VagrantProvider[] = ["libvirt", "virtualbox"];

/** A Ruby double-quoted string literal (JSON escapes are valid Ruby; `#` is escaped so `#{` never interpolates). */
function rubyString(s: string): string {
  return JSON.stringify(s).replace(/#/g, "\\#");
}

/** The box's Vagrantfile: provider settings users would otherwise type. */
export function boxVagrantfile(provider: VagrantProvider, o: { cpus: number; memory: number; mac: string }): string {
  const body = provider === "libvirt"
    ? [
        "  config.vm.provider :libvirt do |libvirt|",
        `    libvirt.driver = ${rubyString("kvm")}`,
        `    libvirt.cpus = ${o.cpus}`,
        `    libvirt.memory = ${o.memory}`,
        "  end",
      ]
    : [
        `  config.vm.base_mac = ${rubyString(o.mac)}`,
        "  config.vm.provider :virtualbox do |vb|",
        `    vb.cpus = ${o.cpus}`,
        `    vb.memory = ${o.memory}`,
        "  end",
      ];
  return ["# Box defaults, merged under the user's Vagrantfile.", 'Vagrant.configure("2") do |config|', ...body, "end", ""].join("\n");
}

/** The `export-vagrant` post-processor. */
export const vagrant: ExportImpl<"vagrant"> = {
  type: "export-vagrant",
  run: (artifact, options, ctx) =>
    runExport("vagrant", artifact, options, ctx, async (job) => {
      const { source, name, staging } = job;
      const providers = options.providers ?? PROVIDERS;
      const level = options.compressionLevel ?? 6;
      if (!Array.isArray(providers) || providers.length === 0 || providers.some((p) => !PROVIDERS.includes(p))) {
        throw exportError(`providers must be a non-empty list of ${PROVIDERS.join(", ")}, got ${JSON.stringify(providers)}`);
      }
      if (!Number.isInteger(level) || level < 1 || level > 9) throw exportError(`compressionLevel must be 1 to 9, got ${level}`);
      const hw = hardware(options, name, "080027");
      const problems: string[] = [];
      const boxes: string[] = [];
      for (const provider of providers) {
        const dir = staging.file(`box-${provider}`);
        await mkdir(dir);
        const at = (f: string) => `${dir}/${f}`;
        let metadata: Record<string, unknown>;
        let disk: string[];
        if (provider === "libvirt") {
          await convert(source, { path: at("box.img"), format: "qcow2" }, ctx.signal);
          const info = await diskInfo(at("box.img"), ctx.signal, "qcow2");
          if (info.virtualSize !== source.virtualSize) problems.push(`box.img has ${info.virtualSize} bytes, expected ${source.virtualSize}`);
          // vagrant-libvirt reads virtual_size in whole GB and grows the disk to it.
          metadata = { provider: "libvirt", format: "qcow2", virtual_size: Math.ceil(source.virtualSize / GiB) };
          disk = ["box.img"];
        } else {
          const files = { ovfName: "box.ovf", vmdkName: "box-disk001.vmdk", mfName: "box.mf" };
          const pkg = await writeOvfPackage(job, { name, hw, controller: "sata", nic: "e1000", osType: VIRTUALBOX_OS[hw.guestOs], ...files, at });
          problems.push(...pkg.problems);
          metadata = { provider: "virtualbox" };
          disk = [files.ovfName, files.vmdkName, files.mfName];
        }
        await writeFile(at("metadata.json"), JSON.stringify(metadata, null, 2) + "\n");
        await writeFile(at("Vagrantfile"), boxVagrantfile(provider, hw));
        const box = `${name}-${provider}.box`;
        const members = ["metadata.json", "Vagrantfile", ...disk];
        await writeTar(staging.file(box), members.map((m) => ({ name: m, file: at(m) })), { gzipLevel: level, signal: ctx.signal });
        const listed = (await listTar(staging.file(box), { gzip: true })).map((e) => e.name);
        if (listed.join("/") !== members.join("/")) problems.push(`${box} holds ${listed.join(", ")}, expected ${members.join(", ")}`);
        boxes.push(box);
      }
      return {
        entries: boxes,
        main: boxes[0]!,
        virtualSize: source.virtualSize,
        details: { boxes, providers: [...providers], mac: hw.mac },
        problems,
      };
    }),
};
