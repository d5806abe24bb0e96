/**
 * VMDK sparse extents (VMware's "Virtual Disk Format 5.0"): the header and embedded descriptor
 * of the monolithicSparse and streamOptimized files the exports write, and the rules they must
 * meet to be read by VMware and VirtualBox.
 */
import { readBytes } from "./read-bytes.js";

/** The parsed sparse extent header and its embedded descriptor. */
export interface VmdkHeader {
  readonly version: number;
  readonly flags: number;
  /** Capacity in 512-byte sectors. */
  readonly capacity: number;
  /** Grain size in sectors. */
  readonly grainSize: number;
  /** 0 none, 1 deflate. */
  readonly compressAlgorithm: number;
  /** The embedded descriptor text. */
  readonly descriptor: string;
  /** `createType` from the descriptor. */
  readonly createType: string | undefined;
  /** `ddb.adapterType` from the descriptor. */
  readonly adapterType: string | undefined;
}

/** Reads the header of a sparse VMDK; throws when the file is not one. */
export async function readVmdkHeader(path: string): Promise<VmdkHeader> {
  const h = await readBytes(path, 0, 512);
  if (h.length < 512 || h.toString("latin1", 0, 4) !== "KDMV") throw new Error(`${path} is not a sparse VMDK (no KDMV magic)`);
  const descOffset = Number(h.readBigUInt64LE(28));
  const descSize = Number(h.readBigUInt64LE(36));
  const descriptor = descOffset && descSize ? (await readBytes(path, descOffset * 512, descSize * 512)).toString("utf8").replace(/\0+$/, "") : "";
  const field = (key: string) => new RegExp(`^${key.replace(/\./g, "\\.")}\\s*=\\s*"([^"]*)"`, "m").exec(descriptor)?.[1];
  return {
    version: h.readUInt32LE(4),
    flags: h.readUInt32LE(8),
    capacity: Number(h.readBigUInt64LE(12)),
    grainSize: Number(h.readBigUInt64LE(20)),
    compressAlgorithm: h.readUInt16LE(77),
    descriptor,
    createType: field("createType"),
    adapterType: field("ddb.adapterType"),
  };
}

/** Checks a sparse VMDK is the subformat wanted, with the right capacity; returns the problems. */
export async function checkVmdk(path: string, want: { createType: "monolithicSparse" | "streamOptimized"; virtualSize: number; adapterType?: string }): Promise<string[]> {
  let h: VmdkHeader;
  try {
    h = await readVmdkHeader(path);
  } catch (error) {
    return [(error as Error).message];
  }
  const problems: string[] = [];
  if (h.createType !== want.createType) problems.push(`VMDK createType is ${h.createType}, expected ${want.createType}`);
  if (h.capacity * 512 !== want.virtualSize) problems.push(`VMDK capacity is ${h.capacity * 512} bytes, expected ${want.virtualSize}`);
  if (h.grainSize < 8 || (h.grainSize & (h.grainSize - 1)) !== 0) problems.push(`VMDK grain size ${h.grainSize} sectors is not a power of two of at least 8`);
  if (want.createType === "streamOptimized") {
    // Version 3, compressed grains (flag bit 16) with markers (bit 17), deflate: what ESXi and VirtualBox import.
    if (h.version !== 3) problems.push(`a streamOptimized VMDK must be version 3, got ${h.version}`);
    if (!(h.flags & (1 << 16)) || !(h.flags & (1 << 17))) problems.push("a streamOptimized VMDK must have compressed grains with markers");
    if (h.compressAlgorithm !== 1) problems.push(`a streamOptimized VMDK must use deflate (1), got ${h.compressAlgorithm}`);
  }
  if (want.adapterType && h.adapterType !== want.adapterType) problems.push(`VMDK ddb.adapterType is ${h.adapterType}, expected ${want.adapterType}`);
  return problems;
}
