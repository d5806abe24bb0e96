/**
 * VHDX (Microsoft's [MS-VHDX]): the file identifier, headers, region table and metadata of the
 * dynamic VHDX the Hyper-V export writes, and the rules Hyper-V needs.
 */
import { readBytes } from "./read-bytes.js";

const KiB64 = 64 * 1024;

/** GUIDs in their on-disk (mixed-endian) byte order. */
function guid(text: string): string {
  const h = text.replace(/-/g, "");
  const swap = (s: string) => s.match(/../g)!.reverse().join("");
  return (swap(h.slice(0, 8)) + swap(h.slice(8, 12)) + swap(h.slice(12, 16)) + h.slice(16)).toLowerCase();
}

const METADATA_REGION = guid("8B7CA206-4790-4B9A-B8FE-575F050F886E");
const FILE_PARAMETERS = guid("CAA16737-FA36-4D43-B3B6-33F0AA44E76B");
const VIRTUAL_DISK_SIZE = guid("2FA54224-CD1B-4876-B211-5DBED83BF4B8");
const LOGICAL_SECTOR_SIZE = guid("8141BF1D-A96F-4709-BA47-F233A8FAAB5F");

/** What the VHDX metadata says. */
export interface VhdxInfo {
  readonly blockSize: number;
  /** False for a dynamic disk. */
  readonly leaveBlocksAllocated: boolean;
  readonly hasParent: boolean;
  readonly virtualSize: number;
  readonly logicalSectorSize: number;
}

/** Reads a VHDX's metadata; throws when the structures are missing. */
export async function readVhdx(path: string): Promise<VhdxInfo> {
  const ident = await readBytes(path, 0, 8);
  if (ident.toString("latin1") !== "vhdxfile") throw new Error(`${path} is not a VHDX (no "vhdxfile" identifier)`);
  for (const at of [1, 2]) {
    if ((await readBytes(path, at * KiB64, 4)).toString("latin1") !== "head") throw new Error(`VHDX header ${at} is missing`);
  }
  const region = await readBytes(path, 3 * KiB64, KiB64);
  if (region.toString("latin1", 0, 4) !== "regi") throw new Error("VHDX region table is missing");
  const count = region.readUInt32LE(8);
  let meta: { offset: number; length: number } | undefined;
  for (let i = 0; i < count; i++) {
    const e = 16 + i * 32;
    if (region.toString("hex", e, e + 16) === METADATA_REGION) meta = { offset: Number(region.readBigUInt64LE(e + 16)), length: region.readUInt32LE(e + 24) };
  }
  if (!meta) throw new Error("VHDX has no metadata region");
  const m = await readBytes(path, meta.offset, meta.length);
  if (m.toString("latin1", 0, 8) !== "metadata") throw new Error("VHDX metadata table is missing");
  const entries = new Map<string, Buffer>();
  for (let i = 0; i < m.readUInt16LE(10); i++) {
    const e = 32 + i * 32;
    const off = m.readUInt32LE(e + 16);
    entries.set(m.toString("hex", e, e + 16), m.subarray(off, off + m.readUInt32LE(e + 20)));
  }
  const fp = entries.get(FILE_PARAMETERS);
  const vs = entries.get(VIRTUAL_DISK_SIZE);
  const ls = entries.get(LOGICAL_SECTOR_SIZE);
  if (!fp || !vs || !ls) throw new Error("VHDX metadata lacks file parameters, virtual disk size or logical sector size");
  const flags = fp.readUInt32LE(4);
  return { blockSize: fp.readUInt32LE(0), leaveBlocksAllocated: (flags & 1) === 1, hasParent: (flags & 2) === 2, virtualSize: Number(vs.readBigUInt64LE(0)), logicalSectorSize: ls.readUInt32LE(0) };
}

/** Checks a VHDX is a dynamic, parentless disk of `virtualSize` bytes with a valid block size. */
export async function checkVhdx(path: string, virtualSize: number): Promise<string[]> {
  let v: VhdxInfo;
  try {
    v = await readVhdx(path);
  } catch (error) {
    return [(error as Error).message];
  }
  const problems: string[] = [];
  if (v.leaveBlocksAllocated) problems.push("VHDX is fixed (LeaveBlocksAllocated), expected dynamic");
  if (v.hasParent) problems.push("VHDX is a differencing disk, expected a standalone one");
  if (v.virtualSize !== virtualSize) problems.push(`VHDX virtual size is ${v.virtualSize}, expected ${virtualSize}`);
  if (v.virtualSize % v.logicalSectorSize !== 0) problems.push(`VHDX virtual size is not a multiple of its ${v.logicalSectorSize}-byte sectors`);
  const mib = v.blockSize / (1024 * 1024);
  if (!Number.isInteger(mib) || mib < 1 || mib > 256 || (mib & (mib - 1)) !== 0) problems.push(`VHDX block size ${v.blockSize} must be a power of two from 1 to 256 MiB`);
  return problems;
}
