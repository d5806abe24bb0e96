#!/usr/bin/env node
// Time of each imgc export against the raw floor: the bare commands a user would type to make
// the same disk (qemu-img convert to the format; plus GNU tar + gzip for GCE). imgc adds the
// descriptors, the format checks, the SHA-256 of every file and the staging/publish step.
// Usage: npm run build:js && node bench/export/formats.mjs [disk.qcow2] [runs]
// Default disk: the tiny test VM's (test/vm/build-tiny.sh). Prints the median of `runs` (3).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const disk = process.argv[2] || join(execFileSync(join(root, "test/vm/build-tiny.sh")).toString().trim().split("\n").pop(), "disk.qcow2");
const runs = Number(process.argv[3] ?? 3);
const { EXPORTS } = await import(join(root, "dist/runtime/export/index.js"));
const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
const sh = (cmd, args) => execFileSync(cmd, args, { stdio: ["ignore", "ignore", "inherit"] });

const floors = {
  virtualbox: (d) => sh("qemu-img", ["convert", "-f", "qcow2", "-O", "vmdk", "-o", "subformat=streamOptimized", disk, join(d, "x.vmdk")]),
  vmware: (d) => sh("qemu-img", ["convert", "-f", "qcow2", "-O", "vmdk", "-o", "subformat=monolithicSparse", disk, join(d, "x.vmdk")]),
  hyperv: (d) => sh("qemu-img", ["convert", "-f", "qcow2", "-O", "vhdx", "-o", "subformat=dynamic", disk, join(d, "x.vhdx")]),
  parallels: (d) => sh("qemu-img", ["convert", "-f", "qcow2", "-O", "parallels", disk, join(d, "x.hds")]),
  azure: (d) => sh("qemu-img", ["convert", "-f", "qcow2", "-O", "vpc", "-o", "subformat=fixed,force_size=on", disk, join(d, "x.vhd")]),
  gce: (d) => {
    sh("qemu-img", ["convert", "-f", "qcow2", "-O", "raw", disk, join(d, "disk.raw")]);
    sh("sh", ["-c", `tar --format=oldgnu -S -c -C "${d}" disk.raw | gzip -6 > "${d}/x.tar.gz"`]);
  },
  vagrant: (d) => {
    sh("qemu-img", ["convert", "-f", "qcow2", "-O", "qcow2", disk, join(d, "box.img")]);
    sh("qemu-img", ["convert", "-f", "qcow2", "-O", "vmdk", "-o", "subformat=streamOptimized", disk, join(d, "box.vmdk")]);
  },
};

const ctx = (workDir) => ({ node: { id: "bench.qemu", image: "bench" }, log: { log: () => {} }, workDir, signal: new AbortController().signal });
const artifact = { node: "bench.qemu", platform: "qemu", id: disk, files: [disk], data: { format: "qcow2" } };
console.log(`disk ${disk}, median of ${runs} runs (ms)`);
console.log("format       imgc     floor    ratio");
for (const impl of EXPORTS) {
  const format = impl.type.replace("export-", "");
  const imgc = [], floor = [];
  for (let i = 0; i < runs; i++) {
    const d = mkdtempSync(join(tmpdir(), "imgc-bench-export-"));
    try {
      let t = performance.now();
      await impl.run(artifact, { directory: join(d, "out") }, ctx(d));
      imgc.push(performance.now() - t);
      t = performance.now();
      floors[format](d);
      floor.push(performance.now() - t);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  }
  const a = median(imgc), b = median(floor);
  console.log(`${format.padEnd(12)} ${a.toFixed(0).padStart(5)}   ${b.toFixed(0).padStart(6)}   ${(a / b).toFixed(2).padStart(5)}`);
}
