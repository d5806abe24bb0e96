/**
 * QEMU's command line, as a pure function of the configuration and what the earlier steps made
 * (disk, CD image, ports, sockets). Tested on exact argv, as Packer tests its qemu driver.
 */
import type { QemuConfig } from "./config.js";

/** What the steps made that the command line refers to. */
export interface VmResources {
  /** The accelerator chosen by the probe. */
  readonly accel: string;
  /** The build disk (qcow2 overlay, or a blank/copied disk). */
  readonly disk: string;
  /** Its format. */
  readonly diskFormat: string;
  /** The installer ISO, attached as a CD-ROM (and booted from when there is no kernel). */
  readonly iso?: string;
  /** The seed CD image made from `cdFiles`/`cdContent`. */
  readonly cd?: string;
  /** Directory served as a FAT floppy (QEMU's vvfat). */
  readonly floppyDir?: string;
  /** The QMP socket path. */
  readonly qmpSocket: string;
  /** The file receiving the serial console. */
  readonly serialLog: string;
  /** Host port forwarded to the guest's SSH port, when the communicator is SSH. */
  readonly sshHostPort?: number;
  /** Guest SSH port. */
  readonly sshGuestPort?: number;
  /** VNC display number (port - 5900) when not headless. */
  readonly vncDisplay?: number;
  /** The per-build copy of the UEFI variable store. */
  readonly efiVars?: string;
  /** The VM's name. */
  readonly name: string;
}

/** The `qemu-system-*` arguments of the build VM. */
export function qemuArgs(c: QemuConfig, r: VmResources): string[] {
  const args: string[] = [];
  const push = (...a: string[]) => args.push(...a);
  push("-name", r.name);
  push("-machine", `${c.machineType},accel=${r.accel}`);
  push("-cpu", c.cpuModel ?? (r.accel === "tcg" ? "max" : "host"));
  push("-smp", String(c.cpus));
  push("-m", `${c.memory}M`);
  push("-nodefaults");
  // Default VGA card and keyboard stay useful (boot commands type into the console).
  push("-vga", "std");
  if (c.headless) push("-display", "none");
  else push("-display", "none", "-vnc", `${c.vncBindAddress}:${r.vncDisplay ?? 0}`);
  push("-qmp", `unix:${r.qmpSocket},server=on,wait=off`);
  push("-serial", `file:${r.serialLog}`);
  push("-no-user-config");

  if (c.firmware.kind === "uefi") {
    push("-drive", `if=pflash,format=raw,unit=0,readonly=on,file=${c.firmware.code}`);
    if (r.efiVars) push("-drive", `if=pflash,format=raw,unit=1,file=${r.efiVars}`);
  }

  const drive = `file=${r.disk},format=${r.diskFormat},cache=${c.diskCache},discard=${c.diskDiscard}`;
  switch (c.diskInterface) {
    case "virtio":
      push("-drive", `${drive},if=virtio,index=0`);
      break;
    case "virtio-scsi":
    case "scsi":
      push("-device", "virtio-scsi-pci,id=scsi0");
      push("-drive", `${drive},if=none,id=disk0`);
      push("-device", "scsi-hd,bus=scsi0.0,drive=disk0");
      break;
    case "ide":
      push("-drive", `${drive},if=ide,index=0,media=disk`);
      break;
  }
  // CD-ROMs on the IDE bus (indexes 2 and 3: the secondary channel, as installers expect).
  if (r.iso) push("-drive", `file=${r.iso},if=ide,index=2,media=cdrom,readonly=on`);
  if (r.cd) push("-drive", `file=${r.cd},if=ide,index=3,media=cdrom,readonly=on`);
  if (r.floppyDir) push("-drive", `file=fat:floppy:${r.floppyDir},if=floppy,index=0,format=raw,readonly=on`);

  if (c.kernel) {
    push("-kernel", c.kernel);
    if (c.initrd) push("-initrd", c.initrd);
    if (c.append) push("-append", c.append);
  } else if (r.iso && !c.diskImage) {
    // Boot the installer once; the reboot at its end boots the disk.
    push("-boot", "once=d");
  } else {
    push("-boot", "c");
  }

  const fwd = r.sshHostPort !== undefined ? `,hostfwd=tcp:127.0.0.1:${r.sshHostPort}-:${r.sshGuestPort ?? 22}` : "";
  push("-netdev", `user,id=net0${fwd}`);
  push("-device", `${c.netDevice},netdev=net0`);

  for (const extra of c.qemuargs) push(...extra);
  return args;
}

/** `qemu-img create` arguments of the build disk: an overlay on `backing`, or blank. */
export function createDiskArgs(path: string, opts: { backing?: string; backingFormat?: string; sizeBytes?: number }): string[] {
  if (opts.backing) {
    const args = ["create", "-q", "-f", "qcow2", "-F", opts.backingFormat ?? "qcow2", "-b", opts.backing, path];
    if (opts.sizeBytes !== undefined) args.push(String(opts.sizeBytes));
    return args;
  }
  return ["create", "-q", "-f", "qcow2", path, String(opts.sizeBytes ?? 10 * 1024 ** 3)];
}

/** `qemu-img convert` arguments of the output disk. */
export function convertArgs(from: string, to: string, format: string, compress: boolean): string[] {
  const args = ["convert", "-q", "-O", format];
  if (compress && format === "qcow2") args.push("-c");
  args.push(from, to);
  return args;
}
