/**
 * The example end to end: `imgc apply` builds the appliance once in QEMU (a provisioner writes
 * /etc/imgc-marker) and the export post-processors write all seven formats. Every format's disk
 * holds the build's content (qemu-img compare against the build's qcow2), the marker the build
 * wrote is in the GCE disk.raw (read back with debugfs), and a second apply has nothing to do.
 * (test/export/boot.test.ts boots every exported disk format in QEMU.)
 */
import { execa } from "execa";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyVm } from "../../test/vm/paths.js";

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, "../../bin/imgc.js");
const out = join(here, "output");
let scratch: string;
let firstRun: string;

async function clean() {
  await rm(out, { recursive: true, force: true });
  await rm(join(here, ".imgc"), { recursive: true, force: true });
}

beforeAll(async () => {
  await tinyVm(); // the example builds on the test VM's disk, kernel and initramfs
  await clean();
  scratch = await mkdtemp(join(tmpdir(), "imgc-multi-format-"));
  const r = await execa("node", [cli, "apply", "images.ts"], { cwd: here, reject: false, all: true });
  firstRun = r.all ?? "";
  expect(r.exitCode, firstRun).toBe(0);
}, 600_000);

afterAll(async () => {
  await clean();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("examples/multi-format", () => {
  it("builds once and writes every format", async () => {
    expect(firstRun).toMatch(/1 built/);
    for (const f of [
      "qemu/appliance.qcow2", "appliance.ova", "appliance-vmware/appliance.vmx", "appliance-vmware/appliance.vmdk",
      "appliance-hyperv/import.ps1", "appliance-hyperv/Virtual Hard Disks/appliance.vhdx", "appliance.pvm/config.pvs",
      "appliance.pvm/appliance.hdd/DiskDescriptor.xml", "appliance.vhd", "appliance.tar.gz", "appliance-libvirt.box",
      "appliance-virtualbox.box", "manifest.json",
    ]) {
      expect((await stat(join(out, f))).size, f).toBeGreaterThan(0);
    }
    for (let i = 1; i <= 7; i++) expect(firstRun).toMatch(new RegExp(`post-processor #${i} export-\\w+: done`));
  });

  it("carries the build's disk into every format", async () => {
    const build = join(out, "qemu/appliance.qcow2");
    const hds = (await execa("sh", ["-c", 'ls "$1"/*.hds', "sh", join(out, "appliance.pvm/appliance.hdd")])).stdout.trim();
    for (const [path, format] of [
      [join(out, "appliance-vmware/appliance.vmdk"), "vmdk"],
      [join(out, "appliance-hyperv/Virtual Hard Disks/appliance.vhdx"), "vhdx"],
      [hds, "parallels"],
      [join(out, "appliance.vhd"), "vpc"],
    ] as const) {
      const r = await execa("qemu-img", ["compare", "-f", "qcow2", "-F", format, build, path], { reject: false });
      expect(r.exitCode, `${path}: ${r.stdout}${r.stderr}`).toBe(0);
    }
  });

  it("has the marker the build's provisioner wrote inside the GCE disk.raw", async () => {
    await execa("tar", ["-xzSf", join(out, "appliance.tar.gz"), "-C", scratch]);
    const { stdout } = await execa("debugfs", ["-R", "cat /etc/imgc-marker", join(scratch, "disk.raw")]);
    expect(stdout.trim()).toBe("built-by-imgc");
  });

  it("is up to date on a second apply: nothing rebuilt, no export re-run", async () => {
    const before = (await stat(join(out, "appliance.ova"))).mtimeMs;
    const r = await execa("node", [cli, "apply", "images.ts"], { cwd: here, all: true });
    expect(r.all).toMatch(/0 built, 1 up to date/);
    expect(r.all).not.toMatch(/export virtualbox/);
    expect((await stat(join(out, "appliance.ova"))).mtimeMs).toBe(before);
    expect(JSON.parse(await readFile(join(out, "manifest.json"), "utf8")).builds[0].name).toBe("appliance.qemu");
  });
});
