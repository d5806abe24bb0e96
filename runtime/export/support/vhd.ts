/**
 * VHD (Microsoft's Virtual Hard Disk Image Format Specification): the 512-byte footer of the
 * fixed VHD Azure takes, parsed, and Azure's rules for it.
 */
import { stat } from "node:fs/promises";
import { readBytes } from "./read-bytes.js";
import { MiB } from "./settings.js";

/** The footer's fields. */
export interface VhdFooter {
  readonly cookie: string;
  readonly features: number;
  readonly formatVersion: number;
  readonly dataOffset: bigint;
  readonly creatorApp: string;
  readonly originalSize: number;
  readonly currentSize: number;
  readonly geometry: { readonly cylinders: number; readonly heads: number; readonly sectorsPerTrack: number };
  /** 2 fixed, 3 dynamic, 4 differencing. */
  readonly diskType: number;
  readonly checksum: number;
  /** The one's complement of the byte sum with the checksum field taken as zero. */
  readonly computedChecksum: number;
}

/** Parses a VHD footer (512 bytes, big-endian). */
export function parseVhdFooter(b: Buffer): VhdFooter {
  if (b.length !== 512) throw new Error(`a VHD footer is 512 bytes, got ${b.length}`);
  let sum = 0;
  for (let i = 0; i < 512; i++) if (i < 64 || i >= 68) sum += b[i]!;
  return {
    cookie: b.toString("latin1", 0, 8),
    features: b.readUInt32BE(8),
    formatVersion: b.readUInt32BE(12),
    dataOffset: b.readBigUInt64BE(16),
    creatorApp: b.toString("latin1", 28, 32),
    originalSize: Number(b.readBigUInt64BE(40)),
    currentSize: Number(b.readBigUInt64BE(48)),
    geometry: { cylinders: b.readUInt16BE(56), heads: b.readUInt8(58), sectorsPerTrack: b.readUInt8(59) },
    diskType: b.readUInt32BE(60),
    checksum: b.readUInt32BE(64),
    computedChecksum: ~sum >>> 0,
  };
}

/**
 * Checks a VHD is what Azure accepts: a fixed disk (footer only, at the end), footer cookie,
 * version and checksum valid, virtual size a whole number of MiB, file size = virtual size + 512.
 */
export async function checkAzureVhd(path: string): Promise<{ footer?: VhdFooter; problems: string[] }> {
  const size = (await stat(path)).size;
  if (size < 512) return { problems: [`${path} is too small to be a VHD`] };
  const footer = parseVhdFooter(await readBytes(path, -512, 512));
  const problems: string[] = [];
  if (footer.cookie !== "conectix") problems.push(`VHD footer cookie is ${JSON.stringify(footer.cookie)}, expected "conectix"`);
  if (footer.formatVersion !== 0x00010000) problems.push(`VHD format version is 0x${footer.formatVersion.toString(16)}, expected 0x10000`);
  if (footer.checksum !== footer.computedChecksum) problems.push(`VHD footer checksum is 0x${footer.checksum.toString(16)}, computed 0x${footer.computedChecksum.toString(16)}`);
  if (footer.diskType !== 2) problems.push(`VHD disk type is ${footer.diskType}, Azure needs 2 (fixed)`);
  if (footer.dataOffset !== 0xffffffffffffffffn) problems.push("a fixed VHD's data offset must be 0xFFFFFFFFFFFFFFFF");
  if (footer.currentSize % MiB !== 0) problems.push(`VHD virtual size ${footer.currentSize} is not a whole number of MiB, as Azure requires`);
  if (size !== footer.currentSize + 512) problems.push(`VHD file is ${size} bytes, a fixed VHD of ${footer.currentSize} bytes must be ${footer.currentSize + 512}`);
  return { footer, problems };
}
