/**
 * A build that starts from an installer ISO and a blank disk, driven as Packer users drive one
 * (test/vm/build-installer.sh makes the ISO from the tiny VM):
 *  1. the ISO is downloaded from `isoUrl` (a local HTTP server) into the cache and checked
 *     against `isoChecksum`; the blank disk has `diskSize`; the VM boots the CD; the boot command
 *     types, at GRUB's prompt, a kernel command line holding the build's HTTP address
 *     (`{{ .HTTPIP }}:{{ .HTTPPort }}`); the installer fetches the root filesystem from
 *     `httpDirectory` and writes the disk; the installed system comes up with SSH and is
 *     provisioned; the output is the installed disk;
 *  2. a build `from` that output boots it without the CD and finds the provisioner's write.
 */
import { createReadStream } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processBackend } from "../../../runtime/platforms/qemu/backend-process.js";
import { qemuDriver } from "../../../runtime/platforms/qemu/driver.js";
import type { QemuOptions } from "../../../runtime/platforms/qemu/factory.js";
import type { ArtifactRecord } from "../../../runtime/types.js";
import { testInstaller, tinyVm, type TestInstaller, type TestVm } from "../../vm/paths.js";
import { removeWorkDir, runDriver, sh, type RunResult } from "./harness.js";

let vm: TestVm;
let installer: TestInstaller;
let project: string;
let installed: RunResult | undefined;
/** Serves the ISO, as a mirror would. */
let mirror: Server;
let mirrorPort: number;
const driver = qemuDriver();

beforeAll(async () => {
  vm = await tinyVm();
  installer = await testInstaller();
  project = await mkdtemp(join(tmpdir(), "imgc-qemu-install-"));
  await mkdir(join(project, "http"));
  await copyFile(installer.rootfsTar, join(project, "http", "rootfs.tar"));
  mirror = createServer((req, res) => {
    if (req.url !== "/installer.iso") return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/octet-stream" });
    createReadStream(installer.iso).pipe(res);
  });
  await new Promise<void>((resolve) => mirror.listen(0, "127.0.0.1", resolve));
  mirrorPort = (mirror.address() as { port: number }).port;
}, 300_000);

afterAll(async () => {
  await new Promise((resolve) => mirror?.close(resolve));
  if (project) await rm(project, { recursive: true, force: true });
});

describe("qemu build from an installer ISO", () => {
  it("installs onto a blank disk through the boot command and the HTTP directory, then provisions it", async () => {
    const cache = join(project, "cache");
    const seen: Record<string, string> = {};
    installed = await runDriver(driver, {
      image: "installed",
      projectRoot: project,
      options: {
        isoUrl: `http://127.0.0.1:${mirrorPort}/installer.iso`,
        isoChecksum: `sha256:${installer.isoSha256}`,
        cacheDirectory: cache,
        diskSize: "192M",
        httpDirectory: "http",
        memory: 256,
        accelerator: "tcg",
        // GRUB waits at its menu: `c` opens its command line, where the installer's kernel
        // is started with the HTTP address in its command line, as a preseed URL would be.
        bootWait: "4s",
        bootKeyInterval: "20ms",
        bootCommand: [
          "c<wait>",
          "linux /boot/vmlinuz console=ttyS0 quiet imgc.rootfs=http://{{ .HTTPIP }}:{{ .HTTPPort }}/rootfs.tar<enter><wait>",
          "initrd /boot/installer.img<enter><wait>",
          "boot<enter>",
        ],
        serialLog: "logs/installed-serial.log",
        ssh: { username: vm.username, privateKeyFile: vm.privateKeyFile, timeout: "10m" },
        shutdownCommand: "poweroff",
        outputDirectory: "out/installed",
      } as QemuOptions,
      provision: async (comm) => {
        seen.root = await sh(comm, "awk '$2 == \"/\" && $1 != \"rootfs\" {print $1}' /proc/mounts");
        await sh(comm, "echo provisioned-after-install > /etc/imgc-installed; sync");
      },
    });
    const serial = await readFile(join(project, "logs/installed-serial.log"), "utf8").catch(() => "");
    if (installed.error) throw new Error(`${installed.error.message}\n${installed.logs.join("\n")}\nserial:\n${serial.slice(-3000)}`);
    expect(serial).toContain("IMGC-INSTALLER: installing http://10.0.2.2:");
    expect(serial).toContain("IMGC-INSTALLED");
    expect(seen.root).toBe("/dev/vda\n");
    // The ISO went into the cache, named by its checksum, and nothing else was left there.
    expect((await readdir(cache)).filter((f) => !f.endsWith(".lock"))).toEqual([`sha256-${installer.isoSha256}.iso`]);
    const art = installed.artifact!;
    const info = await processBackend().diskInfo(art.files[0]!, new AbortController().signal);
    expect(info.virtualSize).toBe(192 * 1024 * 1024);
    expect(info.backingFile).toBeUndefined();
    expect(installed.live).toEqual([]);
    await removeWorkDir(installed);
  }, 900_000);

  it("the installed disk boots without the CD and holds what was provisioned", async () => {
    expect(installed?.artifact, "needs the installed image").toBeDefined();
    const seen: Record<string, string> = {};
    const again = await runDriver(driver, {
      image: "again",
      projectRoot: project,
      upstream: { node: "installed.qemu", artifact: installed!.artifact as ArtifactRecord },
      options: {
        kernel: vm.kernel,
        initrd: vm.initrd,
        append: vm.append,
        memory: 256,
        accelerator: "tcg",
        ssh: { username: vm.username, privateKeyFile: vm.privateKeyFile, timeout: "10m" },
        shutdownCommand: "poweroff",
        keepBackingFile: true,
        outputDirectory: "out/again",
      } as QemuOptions,
      provision: async (comm) => {
        seen.marker = await sh(comm, "cat /etc/imgc-installed");
      },
    });
    if (again.error) throw new Error(`${again.error.message}\n${again.logs.join("\n")}`);
    expect(seen.marker).toBe("provisioned-after-install\n");
    await removeWorkDir(again);
  }, 900_000);
});
