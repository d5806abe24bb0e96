// QEMU: a base image built in a real VM from a disk image, and an app image built `from` it on
// a qcow2 overlay (starting it costs the same whatever the base's size). Both outputs are
// standalone qcow2 disks under output/.
//
// The source is the project's Debian 12 test VM (systemd, OpenSSH, GRUB: the disk boots on its
// own, as a cloud image does): make it with `test/vm/build-debian.sh` (a few minutes, cached),
// then
//   imgc apply examples/qemu/images.ts
// To try it faster, point IMGC_QEMU_EXAMPLE_VM at a directory holding another bootable
// `disk.qcow2` and its root key `id_ed25519`, as the example's test does with the tiny busybox
// VM (test/vm/build-tiny.sh).
import { image } from "imgc";
import { qemu } from "imgc/platforms/qemu";
import { file, shell } from "imgc/provisioners";

const vm = process.env.IMGC_QEMU_EXAMPLE_VM ?? "../../test/.cache/vm/debian";

export const base = image("base", {
  description: "Debian with a motd and an app directory",
  platforms: [
    qemu({
      sourceImage: `${vm}/disk.qcow2`,
      memory: 512,
      // The test VM's key for root; a real image would take a cloud-init seed (cdContent).
      ssh: { username: "root", privateKeyFile: `${vm}/id_ed25519`, timeout: "10m" },
      // No shutdownCommand: imgc presses the ACPI power button and waits for a clean power-off.
      shutdownTimeout: "3m",
      outputDirectory: "output",
    }),
  ],
  provision: [
    shell({ inline: ["echo 'built by imgc' > /etc/motd", "mkdir -p /opt/app"] }),
    file.upload("./app/", "/opt/app"),
  ],
});

export default image("app", {
  from: base,
  description: "The base plus the app's version file",
  provision: [shell({ inline: ["sh /opt/app/hello.sh > /etc/app-version", "cat /etc/app-version", "sync"] })],
});
