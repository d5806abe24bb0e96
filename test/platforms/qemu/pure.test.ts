/**
 * The QEMU platform's pure parts: argv, boot command syntax, checksums, sizes, the
 * accelerator choice (both branches, on an injected probe), the factory's schema.
 */
import { describe, expect, it } from "vitest";
import { convertArgs, createDiskArgs, qemuArgs } from "../../../runtime/platforms/qemu/args.js";
import { fillPlaceholders, keysForChar, parseBootCommand } from "../../../runtime/platforms/qemu/boot-command.js";
import { findInChecksumFile, parseInlineChecksum } from "../../../runtime/platforms/qemu/checksum.js";
import { makeConfig, parseSize } from "../../../runtime/platforms/qemu/config.js";
import { qemu, qemuOptionsSchema } from "../../../runtime/platforms/qemu/factory.js";
import { chooseAccelerator, probeBootSector, type AcceleratorProbe } from "../../../runtime/platforms/qemu/probe.js";

const signal = new AbortController().signal;

function fakeProbe(opens: boolean, starts: boolean, platform: NodeJS.Platform = "linux"): AcceleratorProbe & { calls: string[] } {
  const calls: string[] = [];
  return {
    platform,
    calls,
    async kvmDeviceOpens() {
      calls.push("open");
      return opens;
    },
    async kvmTestStart(timeout) {
      calls.push(`start ${timeout}`);
      return starts;
    },
  };
}

describe("accelerator choice", () => {
  it("uses KVM when /dev/kvm opens and the test VM runs within the bound", async () => {
    const probe = fakeProbe(true, true);
    const choice = await chooseAccelerator("auto", probe, 2000, signal);
    expect(choice.accel).toBe("kvm");
    expect(choice.warning).toBeUndefined();
    expect(probe.calls).toEqual(["open", "start 2000"]);
  });
  it("falls back to TCG with a warning when /dev/kvm opens but the test VM does not run in time", async () => {
    const choice = await chooseAccelerator("auto", fakeProbe(true, false), 2000, signal);
    expect(choice.accel).toBe("tcg");
    expect(choice.warning).toMatch(/did not start within 2000 ms.*TCG/);
  });
  it("falls back to TCG without trying a start when /dev/kvm cannot be opened", async () => {
    const probe = fakeProbe(false, true);
    const choice = await chooseAccelerator("auto", probe, 2000, signal);
    expect(choice.accel).toBe("tcg");
    expect(choice.warning).toMatch(/not available/);
    expect(probe.calls).toEqual(["open"]);
  });
  it("honours an explicit choice without probing", async () => {
    const probe = fakeProbe(true, true);
    expect((await chooseAccelerator("tcg", probe, 1, signal)).accel).toBe("tcg");
    expect((await chooseAccelerator("none", probe, 1, signal)).accel).toBe("tcg");
    expect((await chooseAccelerator("kvm", probe, 1, signal)).accel).toBe("kvm");
    expect(probe.calls).toEqual([]);
  });
  it("picks hvf on macOS", async () => {
    expect((await chooseAccelerator("auto", fakeProbe(false, false, "darwin"), 1, signal)).accel).toBe("hvf");
  });
  it("has a valid boot sector", () => {
    const s = probeBootSector();
    expect(s.length).toBe(512);
    expect([s[510], s[511]]).toEqual([0x55, 0xaa]);
    expect(s.toString("latin1")).toContain("IMGC-ACCEL-OK");
  });
});

describe("boot command", () => {
  it("types text with Shift where the US layout needs it", () => {
    expect(keysForChar("a")).toEqual(["a"]);
    expect(keysForChar("A")).toEqual(["shift", "a"]);
    expect(keysForChar(">")).toEqual(["shift", "dot"]);
    expect(keysForChar("/")).toEqual(["slash"]);
    expect(keysForChar(" ")).toEqual(["spc"]);
    expect(() => keysForChar("é")).toThrow(/cannot be typed/);
  });
  it("parses Packer's special keys, holds and waits", () => {
    const actions = parseBootCommand(["ab<enter><wait5><leftShiftOn>c<leftShiftOff><f1><wait500ms><wait>", "<esc><spacebar>"]);
    expect(actions).toEqual([
      { kind: "keys", keys: ["a"] },
      { kind: "keys", keys: ["b"] },
      { kind: "keys", keys: ["ret"] },
      { kind: "wait", ms: 5000 },
      { kind: "hold", key: "shift", down: true },
      { kind: "keys", keys: ["c"] },
      { kind: "hold", key: "shift", down: false },
      { kind: "keys", keys: ["f1"] },
      { kind: "wait", ms: 500 },
      { kind: "wait", ms: 1000 },
      { kind: "keys", keys: ["esc"] },
      { kind: "keys", keys: ["spc"] },
    ]);
  });
  it("types an unknown <word> as text", () => {
    expect(parseBootCommand(["<nope>"]).map((a) => (a.kind === "keys" ? a.keys.join("+") : a.kind))).toEqual(["shift+comma", "n", "o", "p", "e", "shift+dot"]);
  });
  it("fills the HTTP placeholders, and says when there is no server", () => {
    expect(fillPlaceholders("url=http://{{ .HTTPIP }}:{{.HTTPPort}}/ks.cfg {{ .Name }}", { httpIp: "10.0.2.2", httpPort: 8123, name: "vm" })).toBe("url=http://10.0.2.2:8123/ks.cfg vm");
    expect(() => fillPlaceholders("{{ .HTTPIP }}", { name: "vm" })).toThrow(/no HTTP server/);
  });
});

describe("checksums and sizes", () => {
  it("parses the inline forms", () => {
    expect(parseInlineChecksum("sha256:" + "A".repeat(64))).toEqual({ algorithm: "sha256", hex: "a".repeat(64) });
    expect(parseInlineChecksum("b".repeat(32))).toEqual({ algorithm: "md5", hex: "b".repeat(32) });
    expect(parseInlineChecksum("none")).toBeUndefined();
    expect(() => parseInlineChecksum("sha256:abc")).toThrow(/64 hex digits/);
    expect(() => parseInlineChecksum("what")).toThrow(/not valid/);
  });
  it("finds a file's line in GNU and BSD checksum files", () => {
    const h = "c".repeat(64);
    expect(findInChecksumFile(`${"d".repeat(64)}  other.iso\n${h} *debian.iso\n`, "debian.iso", "x").hex).toBe(h);
    expect(findInChecksumFile(`SHA256 (debian.iso) = ${h}\n`, "debian.iso", "x").hex).toBe(h);
    expect(() => findInChecksumFile(`${h}  other.iso\n`, "debian.iso", "isoChecksum")).toThrow(/no line for debian.iso/);
  });
  it("parses sizes", () => {
    expect(parseSize("10G")).toBe(10 * 1024 ** 3);
    expect(parseSize("512M")).toBe(512 * 1024 ** 2);
    expect(parseSize(2048)).toBe(2048 * 1024 ** 2);
    expect(() => parseSize("lots")).toThrow(/not valid/);
  });
});

describe("qemu command line", () => {
  const config = makeConfig(
    { sourceImage: "/images/base.qcow2", kernel: "/k/vmlinuz", initrd: "/k/initrd", append: "console=ttyS0", ssh: { username: "root" }, qemuargs: [["-device", "virtio-rng-pci"]] },
    { nodeId: "web.qemu", imageName: "web", projectRoot: "/project" },
  );
  it("builds the exact argv", () => {
    const args = qemuArgs(config, { accel: "tcg", disk: "/w/d.qcow2", diskFormat: "qcow2", qmpSocket: "/s/q.sock", serialLog: "/w/serial.log", sshHostPort: 2345, sshGuestPort: 22, name: "web" });
    expect(args).toEqual([
      "-name", "web", "-machine", "pc,accel=tcg", "-cpu", "max", "-smp", "1", "-m", "512M", "-nodefaults", "-vga", "std", "-display", "none",
      "-qmp", "unix:/s/q.sock,server=on,wait=off", "-serial", "file:/w/serial.log", "-no-user-config",
      "-drive", "file=/w/d.qcow2,format=qcow2,cache=writeback,discard=unmap,if=virtio,index=0",
      "-kernel", "/k/vmlinuz", "-initrd", "/k/initrd", "-append", "console=ttyS0",
      "-netdev", "user,id=net0,hostfwd=tcp:127.0.0.1:2345-:22", "-device", "virtio-net-pci,netdev=net0",
      "-device", "virtio-rng-pci",
    ]);
  });
  it("boots an installer ISO once, with UEFI and a SCSI disk", () => {
    const c = makeConfig({ isoUrl: "https://example.invalid/d.iso", isoChecksum: "none", firmware: "uefi", diskInterface: "scsi", communicator: "none" }, { nodeId: "a.qemu", imageName: "a", projectRoot: "/p" });
    const args = qemuArgs(c, { accel: "kvm", disk: "/w/d.qcow2", diskFormat: "qcow2", iso: "/c/d.iso", cd: "/w/cd.iso", efiVars: "/w/vars.fd", qmpSocket: "/s", serialLog: "/l", name: "a" }).join(" ");
    expect(args).toContain("-cpu host");
    expect(args).toContain("if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd");
    expect(args).toContain("-device scsi-hd,bus=scsi0.0,drive=disk0");
    expect(args).toContain("file=/c/d.iso,if=ide,index=2,media=cdrom");
    expect(args).toContain("file=/w/cd.iso,if=ide,index=3,media=cdrom");
    expect(args).toContain("-boot once=d");
    expect(args).toContain("-netdev user,id=net0 ");
  });
  it("makes overlay, blank and convert arguments", () => {
    expect(createDiskArgs("/w/o.qcow2", { backing: "/b.raw", backingFormat: "raw" })).toEqual(["create", "-q", "-f", "qcow2", "-F", "raw", "-b", "/b.raw", "/w/o.qcow2"]);
    expect(createDiskArgs("/w/o.qcow2", { sizeBytes: 1024 })).toEqual(["create", "-q", "-f", "qcow2", "/w/o.qcow2", "1024"]);
    expect(convertArgs("/a", "/b", "qcow2", true)).toEqual(["convert", "-q", "-O", "qcow2", "-c", "/a", "/b"]);
    expect(convertArgs("/a", "/b", "raw", true)).toEqual(["convert", "-q", "-O", "raw", "/a", "/b"]);
  });
  it("needs a source", () => {
    expect(() => makeConfig({ communicator: "none" }, { nodeId: "x.qemu", imageName: "x", projectRoot: "/" })).toThrow(/needs a source/);
  });
});

describe("factory", () => {
  it("records path options relative to the calling file and leaves URLs alone", () => {
    const spec = qemu({ sourceImage: "./disk.qcow2", kernel: "./vmlinuz", isoUrl: "https://example.invalid/a.iso", isoChecksum: "none", diskImage: true, cdFiles: ["user-data"], ssh: { username: "u" } });
    const o = spec.options as unknown as Record<string, unknown>;
    expect((o.kernel as { path: string }).path).toBe("./vmlinuz");
    expect((o.kernel as { base: string }).base).toBe(import.meta.dirname);
    // A path like the others (digested into the key; the compiler remembers large digests).
    expect(o.sourceImage).toMatchObject({ path: "./disk.qcow2", base: import.meta.dirname });
    expect(o.isoUrl).toBe("https://example.invalid/a.iso");
    expect((o.cdFiles as { path: string }[])[0]!.path).toBe("user-data");
    expect(qemuOptionsSchema.safeParse(spec.options).success).toBe(false); // isoUrl and sourceImage together
  });
  it("rejects bad options with the field named", () => {
    const r = qemuOptionsSchema.safeParse({ isoUrl: "https://x.invalid/a.iso", ssh: { username: "u" } });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error!.issues)).toContain("isoChecksum");
    const r2 = qemuOptionsSchema.safeParse({ sourceImage: "a", communicator: "none", sshHostPortRange: [5000, 4000] });
    expect(JSON.stringify(r2.error!.issues)).toContain("sshHostPortRange");
    expect(qemuOptionsSchema.safeParse({ sourceImage: "a", ssh: { username: "root" }, accelerator: "auto" }).success).toBe(true);
  });
});
