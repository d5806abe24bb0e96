/**
 * The QEMU driver's boot paths other than vm.test.ts's (virtio disk, BIOS, direct kernel boot),
 * each proven inside a real guest (TCG) rather than by its command line:
 *  1. a disk that carries its own boot loader (partitioned, GRUB for BIOS) starts with no
 *     `kernel` option, and its output still boots that way;
 *  2. that output, started again `from` it on the IDE interface;
 *  3. the virtio-scsi interface;
 *  4. UEFI firmware (OVMF) with direct kernel boot.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { qemuDriver } from "../../../runtime/platforms/qemu/driver.js";
import type { QemuOptions } from "../../../runtime/platforms/qemu/factory.js";
import type { ArtifactRecord } from "../../../runtime/types.js";
import { tinyVm, type TestVm } from "../../vm/paths.js";
import { removeWorkDir, runDriver, sh, type RunResult } from "./harness.js";

let vm: TestVm;
let project: string;
const driver = qemuDriver();

beforeAll(async () => {
  vm = await tinyVm();
  project = await mkdtemp(join(tmpdir(), "imgc-qemu-boot-"));
}, 300_000);

afterAll(async () => {
  if (project) await rm(project, { recursive: true, force: true });
});

/** Runs one build whose provisioning reads facts about how the guest booted. */
async function build(image: string, options: Partial<QemuOptions>, upstream?: RunResult): Promise<{ run: RunResult; seen: Record<string, string> }> {
  const seen: Record<string, string> = {};
  const run = await runDriver(driver, {
    image,
    projectRoot: project,
    ...(upstream ? { upstream: { node: `${upstream.ctx.env.resolved.node.id}`, artifact: upstream.artifact as ArtifactRecord } } : {}),
    options: {
      memory: 256,
      accelerator: "tcg",
      ssh: { username: vm.username, privateKeyFile: vm.privateKeyFile, timeout: "10m" },
      shutdownCommand: "poweroff",
      outputDirectory: `out/${image}`,
      ...options,
    } as QemuOptions,
    provision: async (comm) => {
      seen.cmdline = await sh(comm, "cat /proc/cmdline");
      seen.root = await sh(comm, "awk '$2 == \"/\" && $1 != \"rootfs\" {print $1}' /proc/mounts");
      seen.efi = await sh(comm, "[ -d /sys/firmware/efi ] && echo uefi || echo bios");
      await sh(comm, `echo ${image} >> /etc/imgc-boots; sync`);
      seen.boots = await sh(comm, "cat /etc/imgc-boots");
    },
  });
  if (run.error) throw new Error(`${run.error.message}\n${run.logs.join("\n")}`);
  expect(run.live).toEqual([]);
  await removeWorkDir(run);
  return { run, seen };
}

describe("qemu boot paths on real VMs", () => {
  let grub: RunResult | undefined;

  it("starts a disk with its own boot loader (GRUB, BIOS) without a kernel option, and its output boots the same way", async () => {
    const { run, seen } = await build("grub", { sourceImage: vm.bootableDisk });
    grub = run;
    // GRUB passed BOOT_IMAGE: the kernel came from the disk's /boot, not from -kernel.
    expect(seen.cmdline).toMatch(/^BOOT_IMAGE=\/boot\/vmlinuz .*root=LABEL=imgcroot/);
    expect(seen.root).toBe("/dev/vda1\n");
    expect(seen.efi).toBe("bios\n");
    expect(existsSync(run.artifact!.files[0]!)).toBe(true);
  }, 600_000);

  it("starts an image from that output on the IDE interface", async () => {
    expect(grub?.artifact, "needs the GRUB image").toBeDefined();
    const { seen } = await build("ide", { diskInterface: "ide", keepBackingFile: true }, grub);
    expect(seen.cmdline).toMatch(/^BOOT_IMAGE=\/boot\/vmlinuz /);
    expect(seen.root).toBe("/dev/sda1\n");
    // The first build's write is in its output: it went through the shutdown and the copy.
    expect(seen.boots).toBe("grub\nide\n");
  }, 600_000);

  it("boots from a virtio-scsi disk", async () => {
    const { seen } = await build("scsi", { sourceImage: vm.disk, kernel: vm.kernel, initrd: vm.initrd, append: vm.append, diskInterface: "virtio-scsi" });
    expect(seen.root).toBe("/dev/sda\n");
  }, 600_000);

  it("boots under UEFI firmware (OVMF)", async () => {
    const { seen, run } = await build("uefi", { sourceImage: vm.disk, kernel: vm.kernel, initrd: vm.initrd, append: vm.append, firmware: "uefi" });
    expect(seen.efi).toBe("uefi\n");
    expect(seen.root).toBe("/dev/vda\n");
    expect(run.logs.join("\n")).toMatch(/OVMF/);
  }, 600_000);
});
