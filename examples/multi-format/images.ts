// One QEMU build, exported offline to every hypervisor and cloud format: VirtualBox (OVA),
// VMware (VMX bundle), Hyper-V (VHDX + import script), Parallels (.pvm), Azure (fixed VHD),
// GCE (disk.raw in a GNU tar.gz) and Vagrant boxes (libvirt, virtualbox).
//
// It builds on the project's tiny test VM (busybox + dropbear, direct kernel boot); make it
// first with `test/vm/build-tiny.sh`, then run: imgc apply examples/multi-format/images.ts
import { image } from "imgc";
import { qemu } from "imgc/platforms/qemu";
import { shell } from "imgc/provisioners";
import { exportImage, manifest } from "imgc/post";

const tiny = "../../test/.cache/vm/tiny";

export default image("appliance", {
  description: "A tiny appliance, built once in QEMU and exported to seven formats",
  platforms: [
    qemu({
      sourceImage: `${tiny}/disk.qcow2`,
      kernel: `${tiny}/vmlinuz`,
      initrd: `${tiny}/initrd.img`,
      append: "console=ttyS0 root=LABEL=imgcroot rw quiet",
      accelerator: "tcg",
      memory: 256,
      outputDirectory: "output/qemu",
      // The test VM's documented root password (its key works too: ssh.privateKeyFile).
      ssh: { username: "root", password: "imgc", timeout: "4m" },
    }),
  ],
  provision: [shell({ inline: ["echo built-by-imgc > /etc/imgc-marker", "sync"] })],
  post: [
    exportImage({
      formats: ["virtualbox", "vmware", "hyperv", "parallels", "azure", "gce", "vagrant"],
      directory: "output",
      cpus: 1,
      memory: 512,
      guestOs: "debian",
      vmware: { hardwareVersion: 14, diskFormat: "monolithicSparse" },
      hyperv: { generation: 1 },
      gce: { compressionLevel: 6 },
    }),
    manifest({ output: "output/manifest.json" }),
  ],
});
