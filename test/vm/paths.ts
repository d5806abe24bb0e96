/**
 * Paths of the test VMs, built on first use and cached under `test/.cache/vm/` (see the
 * comment at the top of `build-tiny.sh` and `build-debian.sh` for what the guests contain).
 *
 * Stable interface (other areas' tests use it):
 *   const vm = await tinyVm();   // { kernel, initrd, disk, diskFormat, append, username,
 *                                //   password, privateKeyFile, publicKey, kernelVersion }
 *   const deb = await debianVm(); // same shape, a debootstrap'ed Debian 12 with systemd
 *   const inst = await testInstaller(); // { iso, isoSha256, rootfsTar }: an installer ISO
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

/** A test VM: direct kernel boot of Debian's kernel with a small initramfs, and its root disk. */
export interface TestVm {
  /** Debian's kernel (bzImage). */
  readonly kernel: string;
  /** The initramfs: loads virtio/ext4 modules and switch_roots to the ext4 labelled `imgcroot`. */
  readonly initrd: string;
  /** The root disk (ext4 without partition table). Never write to it: use it as a backing file or copy it. */
  readonly disk: string;
  /** The disk's format (`qcow2`). */
  readonly diskFormat: "qcow2";
  /**
   * A disk of the same system that boots on its own (MBR, GRUB for BIOS, the kernel and
   * initramfs in its /boot): start it with no `kernel` option. The Debian VM's `disk` is one.
   */
  readonly bootableDisk: string;
  /** Kernel command line (serial console on ttyS0). */
  readonly append: string;
  /** SSH user (`root`). */
  readonly username: string;
  /** That user's password. */
  readonly password: string;
  /** Private key authorised for that user. */
  readonly privateKeyFile: string;
  /** Its public key line. */
  readonly publicKey: string;
  /** The kernel version, e.g. `6.1.0-57-amd64`. */
  readonly kernelVersion: string;
}

const pending = new Map<string, Promise<TestVm>>();

async function build(script: string): Promise<TestVm> {
  const { stdout } = await run(join(here, script), [], { maxBuffer: 16 << 20, timeout: 30 * 60_000 });
  const dir = stdout.trim().split("\n").pop()!;
  return JSON.parse(await readFile(join(dir, "vm.json"), "utf8")) as TestVm;
}

function once(script: string): Promise<TestVm> {
  let p = pending.get(script);
  if (!p) {
    p = build(script);
    pending.set(script, p);
  }
  return p;
}

/** The tiny VM (busybox + dropbear, reaches SSH in ~8 s under TCG); built in ~2 s when missing. */
export function tinyVm(): Promise<TestVm> {
  return once("build-tiny.sh");
}

/** The Debian 12 VM (systemd + OpenSSH, GRUB; ~25 s to SSH under TCG); about a minute to build when missing. */
export function debianVm(): Promise<TestVm> {
  return once("build-debian.sh");
}

/** The tiny VM's installer ISO and what it installs (see `build-installer.sh`). */
export interface TestInstaller {
  /** BIOS-bootable ISO: GRUB waits at its menu for a boot command. */
  readonly iso: string;
  /** The ISO's sha256, hex. */
  readonly isoSha256: string;
  /** The root filesystem tarball the installer fetches (`imgc.rootfs=URL`). */
  readonly rootfsTar: string;
}

/** The installer ISO (built in a few seconds from the tiny VM when missing). */
export async function testInstaller(): Promise<TestInstaller> {
  const { stdout } = await run(join(here, "build-installer.sh"), [], { maxBuffer: 16 << 20, timeout: 30 * 60_000 });
  const dir = stdout.trim().split("\n").pop()!;
  return {
    iso: join(dir, "installer.iso"),
    isoSha256: (await readFile(join(dir, "installer.iso.sha256"), "utf8")).trim(),
    rootfsTar: join(dir, "rootfs.tar"),
  };
}
