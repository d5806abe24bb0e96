/**
 * The QEMU driver's boot paths other than vm.test.ts's (virtio disk, BIOS, direct kernel boot),
 * each proven inside a real guest (TCG) rather than by its command line:
 *  1. a disk that carries its own boot loader (partitioned, GRUB for BIOS) starts with no
 *     `kernel` option, and its output still boots that way;
 *  2. that output, started again `from` it on the IDE interface;
 *  3. the virtio-scsi interface, with `floppyFiles` read from the guest's floppy drive;
 *  4. UEFI firmware (OVMF) with direct kernel boot, not headless: the VNC server answers.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { qemuDriver } from "../../../runtime/platforms/qemu/driver.js";
import type { QemuOptions } from "../../../runtime/platforms/qemu/factory.js";
import type { QemuContext } from "../../../runtime/platforms/qemu/context.js";
import type { ArtifactRecord, Communicator } from "../../../runtime/types.js";
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
async function build(
  image: string,
  options: Partial<QemuOptions>,
  upstream?: RunResult,
  more?: (comm: Communicator, ctx: QemuContext, seen: Record<string, string>) => Promise<void>,
): Promise<{ run: RunResult; seen: Record<string, string> }> {
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
    provision: async (comm, ctx) => {
      seen.cmdline = await sh(comm, "cat /proc/cmdline");
      seen.root = await sh(comm, "awk '$2 == \"/\" && $1 != \"rootfs\" {print $1}' /proc/mounts");
      seen.efi = await sh(comm, "[ -d /sys/firmware/efi ] && echo uefi || echo bios");
      await sh(comm, `echo ${image} >> /etc/imgc-boots; sync`);
      seen.boots = await sh(comm, "cat /etc/imgc-boots");
      await more?.(comm, ctx, seen);
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

  it("boots from a virtio-scsi disk, with floppyFiles on the guest's floppy drive", async () => {
    await writeFile(join(project, "on-floppy.txt"), "from-the-floppy\n");
    const { seen } = await build(
      "scsi",
      { sourceImage: vm.disk, kernel: vm.kernel, initrd: vm.initrd, append: vm.append, diskInterface: "virtio-scsi", floppyFiles: ["on-floppy.txt"] },
      undefined,
      async (comm, _ctx, seen) => {
        // FAT keeps 8.3 names in upper case unless long names are read: mount as vfat.
        seen.floppy = await sh(comm, "modprobe -a floppy vfat nls_cp437 nls_ascii 2>/dev/null; mkdir -p /mnt/fd && mount -t vfat -o ro /dev/fd0 /mnt/fd && cat /mnt/fd/on-floppy.txt; umount /mnt/fd");
      },
    );
    expect(seen.root).toBe("/dev/sda\n");
    expect(seen.floppy).toBe("from-the-floppy\n");
  }, 600_000);

  it("boots under UEFI firmware (OVMF), with a VNC display when not headless", async () => {
    const { seen, run } = await build(
      "uefi",
      { sourceImage: vm.disk, kernel: vm.kernel, initrd: vm.initrd, append: vm.append, firmware: "uefi", headless: false },
      undefined,
      async (_comm, ctx, seen) => {
        seen.vnc = await rfbGreeting(ctx.config.vncBindAddress, ctx.vncPort!);
      },
    );
    expect(seen.efi).toBe("uefi\n");
    expect(seen.root).toBe("/dev/vda\n");
    expect(run.logs.join("\n")).toMatch(/OVMF/);
    // A VNC server's first words (RFC 6143): "RFB 003.008\n".
    expect(seen.vnc).toMatch(/^RFB \d{3}\.\d{3}\n$/);
    expect(run.logs.join("\n")).toMatch(/vnc on 127\.0\.0\.1:59\d\d/);
  }, 600_000);
});

/** The first 12 bytes a VNC server sends: its protocol version. */
function rfbGreeting(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    let got = Buffer.alloc(0);
    sock.setTimeout(10_000, () => (sock.destroy(), reject(new Error(`no VNC greeting from ${host}:${port}`))));
    sock.on("data", (d) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 12) {
        sock.destroy();
        resolve(got.subarray(0, 12).toString("latin1"));
      }
    });
    sock.on("error", reject);
  });
}
