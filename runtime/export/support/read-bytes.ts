/** Reads a byte range of a file (headers and footers of disk formats). */
import { open } from "node:fs/promises";

/** `length` bytes at `position` (negative: from the end); shorter when the file is. */
export async function readBytes(path: string, position: number, length: number): Promise<Buffer> {
  const fh = await open(path, "r");
  try {
    const size = (await fh.stat()).size;
    const at = position < 0 ? Math.max(0, size + position) : position;
    const buf = Buffer.alloc(Math.max(0, Math.min(length, size - at)));
    if (buf.length) await fh.read(buf, 0, buf.length, at);
    return buf;
  } finally {
    await fh.close();
  }
}
