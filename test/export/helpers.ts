/** Shared fixtures of the export tests: a context, small disks, the tiny VM with a marker file. */
import { execa } from "execa";
import { mkdtemp, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ArtifactRecord } from "../../runtime/types.js";
import type { ExportContext } from "../../runtime/export/types.js";
import { tinyVm, type TestVm } from "../vm/paths.js";

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, "../..");

/** A context that records log lines. */
export function makeCtx(workDir: string, signal: AbortSignal = new AbortController().signal): ExportContext & { lines: string[] } {
  const lines: string[] = [];
  return { node: { id: "tiny.qemu", image: "tiny" }, log: { log: (_l, m) => void lines.push(m) }, workDir, signal, lines };
}

/** A fresh temp directory. */
export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `imgc-export-${prefix}-`));
}

/** The artifact a QEMU build leaves for a disk. */
export function diskArtifact(path: string, format = "qcow2"): ArtifactRecord {
  return { node: "tiny.qemu", platform: "qemu", id: path, files: [path], data: { diskFormat: format } };
}

/**
 * A small qcow2 disk of `size` bytes (not a whole MiB by default, so the Azure and GCE rounding
 * rules are exercised) with recognisable data at its start and end.
 */
export async function smallDisk(dir: string, size = 5 * 1024 * 1024 + 3 * 512): Promise<string> {
  const raw = join(dir, "small.raw");
  const data = Buffer.alloc(size);
  data.write("imgc export test: start", 0);
  data.write("imgc export test: end", size - 512);
  await writeFile(raw, data);
  const qcow2 = join(dir, "small.qcow2");
  await execa("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, qcow2]);
  await rm(raw);
  return qcow2;
}

/** The marker the "build" wrote into the disk the boot tests export. */
export const MARKER = { path: "/etc/imgc-export-marker", content: "exported by imgc, booted by QEMU\n" };

/**
 * The QEMU platform's tiny test VM (test/vm/build-tiny.sh, cached) and a copy of its disk with
 * the marker file written into its ext4 root (debugfs -w), standing for a build's artifact.
 */
export async function tinyVmWithMarker(): Promise<{ vm: TestVm; disk: string }> {
  const vm = await tinyVm();
  const cache = join(repoRoot, "test/.cache/export");
  await mkdir(cache, { recursive: true });
  const disk = join(cache, "tiny-marker.qcow2");
  const stamp = join(cache, "tiny-marker.source");
  const srcStat = await stat(vm.disk);
  const key = `${vm.disk} ${srcStat.size} ${srcStat.mtimeMs} ${MARKER.path}`;
  const cached = await readFile(stamp, "utf8").catch(() => "");
  if (cached !== key) {
    const raw = join(cache, "tiny-marker.raw");
    const markerFile = join(cache, "marker.txt");
    await execa("qemu-img", ["convert", "-f", "qcow2", "-O", "raw", vm.disk, raw]);
    await writeFile(markerFile, MARKER.content);
    await execa("debugfs", ["-w", "-R", `write ${markerFile} ${MARKER.path}`, raw]);
    await execa("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, disk]);
    await rm(raw);
    await writeFile(stamp, key);
  }
  return { vm, disk };
}
