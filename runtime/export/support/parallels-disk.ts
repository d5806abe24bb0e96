/**
 * Parallels disks: the `.hdd` directory Parallels Desktop expects (DiskDescriptor.xml, written
 * with xmlbuilder2, plus the `.hds` data file qemu-img writes in its `parallels` format), and the
 * rules for the data file's header.
 */
import { create } from "xmlbuilder2";
import { readBytes } from "./read-bytes.js";

/** The GUID Parallels gives the top (only) snapshot of a disk. */
export const TOP_SNAPSHOT = "{5fbaabe3-6958-40ff-92a7-860e329aab41}";

/** Cluster size qemu-img writes (1 MiB), in sectors: DiskDescriptor's Blocksize must match. */
export const CLUSTER_SECTORS = 2048;

/** The `.hds` file name inside `<disk>.hdd/`. */
export function hdsName(disk: string): string {
  return `${disk}.0.${TOP_SNAPSHOT}.hds`;
}

/** DiskDescriptor.xml of a one-file, expanding disk. */
export function buildDiskDescriptor(o: { disk: string; virtualSize: number; uid: string; name: string }): string {
  const sectors = o.virtualSize / 512;
  const doc = create({ version: "1.0", encoding: "UTF-8" }).ele("Parallels_disk_image", { Version: "1.0" });
  const p = doc.ele("Disk_Parameters");
  p.ele("Disk_size").txt(String(sectors));
  p.ele("Cylinders").txt(String(Math.floor(sectors / (16 * 32))));
  p.ele("PhysicalSectorSize").txt("512");
  p.ele("Heads").txt("16");
  p.ele("Sectors").txt("32");
  p.ele("Padding").txt("0");
  const enc = p.ele("Encryption");
  enc.ele("Engine").txt("{00000000-0000-0000-0000-000000000000}");
  enc.ele("Data");
  p.ele("UID").txt(`{${o.uid}}`);
  p.ele("Name").txt(o.name);
  const misc = p.ele("Miscellaneous");
  misc.ele("CompatLevel").txt("level2");
  misc.ele("Bootable").txt("1");
  misc.ele("SuspendState").txt("0");
  const storage = doc.ele("StorageData").ele("Storage");
  storage.ele("Start").txt("0");
  storage.ele("End").txt(String(sectors));
  storage.ele("Blocksize").txt(String(CLUSTER_SECTORS));
  const image = storage.ele("Image");
  image.ele("GUID").txt(TOP_SNAPSHOT);
  image.ele("Type").txt("Compressed");
  image.ele("File").txt(hdsName(o.disk));
  const shot = doc.ele("Snapshots").ele("Shot");
  shot.ele("GUID").txt(TOP_SNAPSHOT);
  shot.ele("ParentGUID").txt("{00000000-0000-0000-0000-000000000000}");
  return doc.end({ prettyPrint: true });
}

/** Checks a Parallels data file: signature, version 2, sectors = virtual size, cluster size = the descriptor's. */
export async function checkParallelsImage(path: string, virtualSize: number): Promise<string[]> {
  const h = await readBytes(path, 0, 64);
  const magic = h.toString("latin1", 0, 16);
  const problems: string[] = [];
  if (magic !== "WithoutFreeSpace" && magic !== "WithouFreSpacExt") return [`${path} is not a Parallels disk (magic ${JSON.stringify(magic)})`];
  if (h.readUInt32LE(16) !== 2) problems.push(`Parallels disk version is ${h.readUInt32LE(16)}, expected 2`);
  if (h.readUInt32LE(28) !== CLUSTER_SECTORS) problems.push(`Parallels cluster is ${h.readUInt32LE(28)} sectors, DiskDescriptor says ${CLUSTER_SECTORS}`);
  const sectors = Number(h.readBigUInt64LE(36));
  if (sectors * 512 !== virtualSize) problems.push(`Parallels disk has ${sectors} sectors, expected ${virtualSize / 512}`);
  return problems;
}
