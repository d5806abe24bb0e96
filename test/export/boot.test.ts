/**
 * The proof that converted disks are sound: the tiny test VM's disk, with a marker file the
 * "build" wrote, is exported to every format; each distinct disk format is then booted by QEMU
 * (the guest's root filesystem is on it), reached over SSH (banner first), and must hold the
 * marker. Read as: vmdk (streamOptimized, from the OVA), vmdk (monolithicSparse, from the VMX
 * bundle), vhdx (Hyper-V), parallels (.pvm), vpc (Azure's fixed VHD), raw (GCE's disk.raw),
 * qcow2 (the Vagrant libvirt box).
 */
import { execa } from "execa";
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXPORTS } from "../../runtime/export/index.js";
import { exportImage, EXPORT_FORMATS, type ExportFormat } from "../../runtime/export/factory.js";
import type { ArtifactRecord } from "../../runtime/types.js";
import type { TestVm } from "../vm/paths.js";
import { liveQemu, sshRun, withBootedDisk } from "./boot.js";
import { diskArtifact, makeCtx, MARKER, tempDir, tinyVmWithMarker } from "./helpers.js";

let dir: string;
let vm: TestVm;
const results = {} as Record<ExportFormat, ArtifactRecord>;
const disks: { label: string; path: string; format: string }[] = [];

beforeAll(async () => {
  dir = await tempDir("boot");
  const tiny = await tinyVmWithMarker();
  vm = tiny.vm;
  const out = join(dir, "out");
  // A chain, as the runtime runs `post: [exportImage(...)]`: each export gets the previous one's artifact.
  let artifact: ArtifactRecord = diskArtifact(tiny.disk);
  for (const spec of exportImage({ formats: [...EXPORT_FORMATS], directory: out, name: "tiny" })) {
    const impl = EXPORTS.find((e) => e.type === spec.type)!;
    artifact = await impl.run(artifact, spec.options as never, makeCtx(dir));
    results[spec.type.replace("export-", "") as ExportFormat] = artifact;
  }
  const unpack = async (archive: string, into: string, gzip: boolean) => {
    await mkdir(into, { recursive: true });
    await execa("tar", [gzip ? "-xzSf" : "-xf", archive, "-C", into]);
  };
  await unpack(results.virtualbox.id, join(dir, "ova"), false);
  await unpack(results.gce.id, join(dir, "gce"), true);
  await unpack(results.vagrant.files.find((f) => f.endsWith("-libvirt.box"))!, join(dir, "libvirt"), true);
  disks.push(
    { label: "VirtualBox OVA (vmdk streamOptimized)", path: join(dir, "ova", "tiny-disk001.vmdk"), format: "vmdk" },
    { label: "VMware bundle (vmdk monolithicSparse)", path: join(out, "tiny-vmware", "tiny.vmdk"), format: "vmdk" },
    { label: "Hyper-V (vhdx)", path: join(out, "tiny-hyperv", "Virtual Hard Disks", "tiny.vhdx"), format: "vhdx" },
    { label: "Parallels (.pvm)", path: join(out, "tiny.pvm", "tiny.hdd", (await readdir(join(out, "tiny.pvm", "tiny.hdd"))).find((f) => f.endsWith(".hds"))!), format: "parallels" },
    { label: "Azure (fixed vpc)", path: join(out, "tiny.vhd"), format: "vpc" },
    { label: "GCE (disk.raw)", path: join(dir, "gce", "disk.raw"), format: "raw" },
    { label: "Vagrant libvirt (qcow2)", path: join(dir, "libvirt", "box.img"), format: "qcow2" },
  );
});

afterAll(async () => {
  expect([...liveQemu]).toEqual([]);
  await rm(dir, { recursive: true, force: true });
});

describe("QEMU boots every exported disk format", () => {
  it("chained exports all read the build's own disk", () => {
    for (const format of EXPORT_FORMATS) expect((results[format].data as { source: { format: string } }).source.format).toBe("qcow2");
  });

  for (const i of [0, 1, 2, 3, 4, 5, 6]) {
    it(`boots disk ${i + 1} of 7 and finds the build's marker over SSH`, async () => {
      const disk = disks[i]!;
      const marker = await withBootedDisk(vm, disk, join(dir, `serial-${i}.log`), (port) => sshRun(vm, port, `cat ${MARKER.path}`));
      expect(marker, disk.label).toBe(MARKER.content);
    }, 240_000);
  }
});
