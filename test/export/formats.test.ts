/**
 * Every export format from one small qcow2 disk (5 MiB + 3 sectors: not a whole MiB, so the
 * Azure and GCE rounding rules run): qemu-img agrees on format and virtual size, the content is
 * the source's (qemu-img compare), and each format's own rules hold, checked from the files
 * (OVF envelope and manifest, VMX keys, VHD footer, VHDX metadata, GNU tar, Vagrant boxes).
 */
import { createHash } from "node:crypto";
import { execa } from "execa";
import { readFile, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXPORTS } from "../../runtime/export/index.js";
import { exportImage, EXPORT_FORMATS, type ExportFormat } from "../../runtime/export/factory.js";
import type { ArtifactRecord } from "../../runtime/types.js";
import type { ExportArtifactData } from "../../runtime/export/types.js";
import { checkManifest, checkOvf, NS } from "../../runtime/export/support/ovf.js";
import { checkVmx, parseVmx } from "../../runtime/export/support/vmx.js";
import { readVhdx } from "../../runtime/export/support/vhdx.js";
import { checkPvmBundle } from "../../runtime/export/parallels.js";
import { diskArtifact, makeCtx, smallDisk, tempDir } from "./helpers.js";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
let dir: string;
let out: string;
let source: string;
let sourceSize: number;
const results = {} as Record<ExportFormat, ArtifactRecord<ExportArtifactData>>;

async function info(path: string, format: string) {
  const { stdout } = await execa("qemu-img", ["info", "--output=json", "-f", format, path]);
  return JSON.parse(stdout) as { format: string; "virtual-size": number; "format-specific"?: { data?: Record<string, unknown> } };
}

async function infoProbed(path: string) {
  const { stdout } = await execa("qemu-img", ["info", "--output=json", path]);
  return JSON.parse(stdout) as { format: string; "virtual-size": number };
}

/** `qemu-img check` must find no corruption and no leak (exit 0). */
async function check(path: string, format: string) {
  const r = await execa("qemu-img", ["check", "-f", format, path], { reject: false });
  expect(r.exitCode, r.stdout + r.stderr).toBe(0);
}

/** Same content as the source (a bigger target must be zero beyond the source's end). */
async function sameContent(path: string, format: string) {
  const r = await execa("qemu-img", ["compare", "-f", "qcow2", "-F", format, source, path], { reject: false });
  expect(r.exitCode, r.stdout + r.stderr).toBe(0);
}

function sha256(buf: Buffer): string {
  return createHash("sha256").update(buf).digest("hex");
}

async function untar(archive: string, into: string, gzip = false) {
  await execa("mkdir", ["-p", into]);
  await execa("tar", [gzip ? "-xzSf" : "-xf", archive, "-C", into]);
  const { stdout } = await execa("tar", [gzip ? "-tzf" : "-tf", archive]);
  return stdout.split("\n").filter(Boolean);
}

beforeAll(async () => {
  dir = await tempDir("formats");
  out = join(dir, "out");
  source = await smallDisk(dir);
  sourceSize = (await info(source, "qcow2"))["virtual-size"];
  const specs = exportImage({ formats: [...EXPORT_FORMATS], directory: out, cpus: 2, memory: 2048 });
  for (const spec of specs) {
    const impl = EXPORTS.find((e) => e.type === spec.type)!;
    const format = spec.type.replace("export-", "") as ExportFormat;
    results[format] = await impl.run(diskArtifact(source), spec.options as never, makeCtx(dir));
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("every export", () => {
  it("records every file it wrote with its size and SHA-256, and leaves no staging directory", async () => {
    for (const format of EXPORT_FORMATS) {
      const r = results[format];
      expect(r.data.format).toBe(format);
      expect(r.files.length).toBeGreaterThan(0);
      for (const f of r.data.files) {
        const buf = await readFile(f.path);
        expect(f.size).toBe(buf.length);
        expect(f.sha256).toBe(sha256(buf));
      }
      expect(r.data.source.path).toBe(source);
    }
    expect((await readdir(out)).filter((n) => n.startsWith(".imgc-export"))).toEqual([]);
  });
});

describe("virtualbox (OVA)", () => {
  it("is a ustar archive with the OVF descriptor first, then the streamOptimized VMDK, then the manifest", async () => {
    const ova = results.virtualbox.id;
    expect(ova.endsWith("tiny.ova")).toBe(true);
    const head = (await readFile(ova)).subarray(0, 512);
    expect(head.toString("latin1", 257, 263)).toBe("ustar\0"); // POSIX ustar, as OVF requires
    const names = await untar(ova, join(dir, "ova"));
    expect(names).toEqual(["tiny.ovf", "tiny-disk001.vmdk", "tiny.mf"]);
  });

  it("has a descriptor that follows the OVF 1.0 envelope rules and describes the VM", async () => {
    const x = join(dir, "ova");
    const xml = await readFile(join(x, "tiny.ovf"), "utf8");
    const vmdkSize = (await stat(join(x, "tiny-disk001.vmdk"))).size;
    expect(checkOvf(xml, [{ name: "tiny-disk001.vmdk", size: vmdkSize }])).toEqual([]);
    expect(xml).toContain(`xmlns="${NS.ovf}"`);
    expect(xml).toMatch(new RegExp(`<File ovf:id="file1" ovf:href="tiny-disk001.vmdk" ovf:size="${vmdkSize}"/>`));
    expect(xml).toContain(`ovf:capacity="${sourceSize}"`);
    expect(xml).toContain("vmdk.html#streamOptimized");
    expect(xml).toMatch(/<rasd:ResourceType>3<\/rasd:ResourceType>\s*<rasd:VirtualQuantity>2<\/rasd:VirtualQuantity>/);
    expect(xml).toMatch(/<rasd:ResourceType>4<\/rasd:ResourceType>\s*<rasd:VirtualQuantity>2048<\/rasd:VirtualQuantity>/);
    expect(xml).toContain("<vbox:OSType ovf:required=\"false\">Debian_64</vbox:OSType>");
    expect(xml).toContain("<rasd:ResourceSubType>AHCI</rasd:ResourceSubType>");
    expect(xml).toContain("<rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource>");
  });

  it("has a manifest with the SHA-256 of the descriptor and the disk", async () => {
    const x = join(dir, "ova");
    const mf = await readFile(join(x, "tiny.mf"), "utf8");
    const expected = await Promise.all(["tiny.ovf", "tiny-disk001.vmdk"].map(async (name) => ({ name, sha256: sha256(await readFile(join(x, name))) })));
    expect(checkManifest(mf, expected)).toEqual([]);
    expect(mf.split("\n").filter(Boolean)).toHaveLength(2);
  });

  it("has a disk qemu-img reads as a streamOptimized VMDK of the source's size and content", async () => {
    const vmdk = join(dir, "ova", "tiny-disk001.vmdk");
    const i = await infoProbed(vmdk);
    expect(i.format).toBe("vmdk");
    expect(i["virtual-size"]).toBe(sourceSize);
    expect((await info(vmdk, "vmdk"))["format-specific"]?.data?.["create-type"]).toBe("streamOptimized");
    await check(vmdk, "vmdk");
    await sameContent(vmdk, "vmdk");
  });

  it("can leave the .ovf and its files side by side instead", async () => {
    const impl = EXPORTS.find((e) => e.type === "export-virtualbox")!;
    const r = await impl.run(diskArtifact(source), { directory: { $path: join(dir, "ovf") }, name: "side", packaging: "ovf" } as never, makeCtx(dir));
    expect((await readdir(join(dir, "ovf"))).sort()).toEqual(["side-disk001.vmdk", "side.mf", "side.ovf"]);
    expect(r.id).toBe(join(dir, "ovf", "side.ovf"));
    const xml = await readFile(r.id, "utf8");
    expect(checkOvf(xml, [{ name: "side-disk001.vmdk", size: (await stat(join(dir, "ovf", "side-disk001.vmdk"))).size }])).toEqual([]);
  });
});

describe("vmware", () => {
  it("writes a .vmx with the keys VMware requires, pointing at its disk", async () => {
    const vmxPath = results.vmware.id;
    const vmx = parseVmx(await readFile(vmxPath, "utf8"));
    expect(checkVmx(vmx, "tiny.vmdk")).toEqual([]);
    expect(vmx.get("virtualhw.version")).toBe("14");
    expect(vmx.get("guestos")).toBe("debian8-64");
    expect(vmx.get("memsize")).toBe("2048");
    expect(vmx.get("numvcpus")).toBe("2");
    expect(vmx.get("scsi0.virtualdev")).toBe("lsilogic");
    expect(vmx.get("scsi0:0.filename")).toBe("tiny.vmdk");
    expect(vmx.get("ethernet0.address")).toMatch(/^00:50:56:[0-3][0-9a-f](:[0-9a-f]{2}){2}$/);
  });

  it("writes a monolithicSparse VMDK qemu-img reads with the source's size and content", async () => {
    const vmdk = join(dir, "out", "tiny-vmware", "tiny.vmdk");
    const i = await info(vmdk, "vmdk");
    expect(i["virtual-size"]).toBe(sourceSize);
    expect(i["format-specific"]?.data?.["create-type"]).toBe("monolithicSparse");
    expect((await infoProbed(vmdk)).format).toBe("vmdk");
    await check(vmdk, "vmdk");
    await sameContent(vmdk, "vmdk");
  });

  it("writes a streamOptimized VMDK for ESXi when asked, and a later hardware version", async () => {
    const impl = EXPORTS.find((e) => e.type === "export-vmware")!;
    const r = await impl.run(diskArtifact(source), { directory: { $path: join(dir, "esx") }, diskFormat: "streamOptimized", hardwareVersion: 19, nic: "vmxnet3", controller: "pvscsi", firmware: "efi" } as never, makeCtx(dir));
    const vmx = parseVmx(await readFile(r.id, "utf8"));
    expect(checkVmx(vmx, "tiny.vmdk")).toEqual([]);
    expect([vmx.get("virtualhw.version"), vmx.get("ethernet0.virtualdev"), vmx.get("scsi0.virtualdev"), vmx.get("firmware")]).toEqual(["19", "vmxnet3", "pvscsi", "efi"]);
    expect((await info(join(dir, "esx", "tiny-vmware", "tiny.vmdk"), "vmdk"))["format-specific"]?.data?.["create-type"]).toBe("streamOptimized");
  });
});

describe("hyperv", () => {
  it("writes a dynamic VHDX qemu-img reads with the source's size and content", async () => {
    const vhdx = join(results.hyperv.id, "Virtual Hard Disks", "tiny.vhdx");
    const i = await infoProbed(vhdx);
    expect([i.format, i["virtual-size"]]).toEqual(["vhdx", sourceSize]);
    await check(vhdx, "vhdx");
    await sameContent(vhdx, "vhdx");
    const meta = await readVhdx(vhdx);
    expect(meta.leaveBlocksAllocated).toBe(false);
    expect(meta.hasParent).toBe(false);
    expect(meta.virtualSize).toBe(sourceSize);
  });

  it("writes an import script that creates the VM around the disk", async () => {
    const ps1 = await readFile(join(results.hyperv.id, "import.ps1"), "utf8");
    expect(ps1).toContain("New-VM -Name $Name -Generation 1 -MemoryStartupBytes 2048MB -VHDPath $vhd -SwitchName $SwitchName");
    expect(ps1).toContain("$vhd = Join-Path $PSScriptRoot 'Virtual Hard Disks\\tiny.vhdx'");
    expect(ps1).toContain("Set-VMProcessor -VM $vm -Count 2");
    expect(ps1).not.toContain("Set-VMFirmware");
  });

  it("makes generation 2 VMs with Secure Boot, and quotes the switch name safely", async () => {
    const impl = EXPORTS.find((e) => e.type === "export-hyperv")!;
    const r = await impl.run(diskArtifact(source), { directory: { $path: join(dir, "gen2") }, generation: 2, secureBoot: true, switchName: "Bob's switch" } as never, makeCtx(dir));
    const ps1 = await readFile(join(r.id, "import.ps1"), "utf8");
    expect(ps1).toContain("-Generation 2");
    expect(ps1).toContain("[string]$SwitchName = 'Bob''s switch'");
    expect(ps1).toContain("Set-VMFirmware -VM $vm -EnableSecureBoot On -SecureBootTemplate 'MicrosoftUEFICertificateAuthority'");
  });
});

describe("parallels", () => {
  it("writes a .pvm bundle whose config.pvs and DiskDescriptor.xml match a Parallels disk qemu-img reads", async () => {
    const bundle = results.parallels.id;
    expect(bundle.endsWith("tiny.pvm")).toBe(true);
    expect(await checkPvmBundle(bundle, sourceSize)).toEqual([]);
    const hds = join(bundle, "tiny.hdd", "tiny.hdd.0.{5fbaabe3-6958-40ff-92a7-860e329aab41}.hds");
    const i = await infoProbed(hds);
    expect([i.format, i["virtual-size"]]).toEqual(["parallels", sourceSize]);
    await check(hds, "parallels");
    await sameContent(hds, "parallels");
    const pvs = await readFile(join(bundle, "config.pvs"), "utf8");
    expect(pvs).toContain("<SystemName>tiny.hdd</SystemName>");
    expect(pvs).toContain("<RAM>2048</RAM>");
  });
});

describe("azure", () => {
  it("writes a fixed VHD rounded up to a whole MiB with a valid footer", async () => {
    const vhd = results.azure.id;
    const buf = await readFile(vhd);
    const footer = buf.subarray(buf.length - 512);
    const current = Number(footer.readBigUInt64BE(48));
    expect(footer.toString("latin1", 0, 8)).toBe("conectix");
    expect(footer.readUInt32BE(60)).toBe(2); // fixed
    expect(current).toBe(Math.ceil(sourceSize / MiB) * MiB);
    expect(current % MiB).toBe(0);
    expect(buf.length).toBe(current + 512);
    let sum = 0;
    footer.forEach((b, i) => { if (i < 64 || i >= 68) sum += b; });
    expect(footer.readUInt32BE(64)).toBe(~sum >>> 0);
    const i = await info(vhd, "vpc");
    expect(i["virtual-size"]).toBe(current);
    // No probe here: a fixed VHD has its only header at the end, so qemu-img's probe says "raw";
    // read as vpc (above), it must show the footer's size.
    await sameContent(vhd, "vpc");
    expect(results.azure.data.virtualSize).toBe(current);
  });
});

describe("gce", () => {
  it("writes a gzip'd GNU tar holding exactly disk.raw, a whole number of GiB, with the source's content", async () => {
    const archive = results.gce.id;
    expect(archive.endsWith("tiny.tar.gz")).toBe(true);
    const { stdout } = await execa("tar", ["-tzf", archive]);
    expect(stdout.split("\n").filter(Boolean)).toEqual(["disk.raw"]);
    const { stdout: header } = await execa("sh", ["-c", 'gzip -dc "$1" | head -c 512 | tail -c 255 | head -c 8 | od -An -c', "sh", archive]);
    expect(header.replace(/\s+/g, " ").trim()).toBe("u s t a r \\0"); // GNU magic "ustar  \0"
    const names = await untar(archive, join(dir, "gce"), true);
    expect(names).toEqual(["disk.raw"]);
    const raw = join(dir, "gce", "disk.raw");
    expect((await stat(raw)).size).toBe(GiB);
    await sameContent(raw, "raw");
  });
});

describe("vagrant", () => {
  it("writes a libvirt box: metadata.json, Vagrantfile and a qcow2 box.img", async () => {
    const box = results.vagrant.files.find((f) => f.endsWith("tiny-libvirt.box"))!;
    const names = await untar(box, join(dir, "libvirt"), true);
    expect(names).toEqual(["metadata.json", "Vagrantfile", "box.img"]);
    const meta = JSON.parse(await readFile(join(dir, "libvirt", "metadata.json"), "utf8"));
    expect(meta).toEqual({ provider: "libvirt", format: "qcow2", virtual_size: 1 });
    const vf = await readFile(join(dir, "libvirt", "Vagrantfile"), "utf8");
    expect(vf).toContain("libvirt.cpus = 2");
    expect(vf).toContain("libvirt.memory = 2048");
    const img = join(dir, "libvirt", "box.img");
    expect((await infoProbed(img)).format).toBe("qcow2");
    await check(img, "qcow2");
    await sameContent(img, "qcow2");
  });

  it("writes a virtualbox box: metadata.json, Vagrantfile with base_mac, and a sound OVF package", async () => {
    const box = results.vagrant.files.find((f) => f.endsWith("tiny-virtualbox.box"))!;
    const x = join(dir, "vbox");
    const names = await untar(box, x, true);
    expect(names).toEqual(["metadata.json", "Vagrantfile", "box.ovf", "box-disk001.vmdk", "box.mf"]);
    expect(JSON.parse(await readFile(join(x, "metadata.json"), "utf8"))).toEqual({ provider: "virtualbox" });
    expect(await readFile(join(x, "Vagrantfile"), "utf8")).toMatch(/config\.vm\.base_mac = "080027[0-9A-F]{6}"/);
    const xml = await readFile(join(x, "box.ovf"), "utf8");
    expect(checkOvf(xml, [{ name: "box-disk001.vmdk", size: (await stat(join(x, "box-disk001.vmdk"))).size }])).toEqual([]);
    const sums = await Promise.all(["box.ovf", "box-disk001.vmdk"].map(async (name) => ({ name, sha256: sha256(await readFile(join(x, name))) })));
    expect(checkManifest(await readFile(join(x, "box.mf"), "utf8"), sums)).toEqual([]);
    await sameContent(join(x, "box-disk001.vmdk"), "vmdk");
  });
});
