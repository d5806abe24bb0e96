/**
 * The format rules can fail (each checker rejects a broken file), bad options and inputs give a
 * clear error, and a failed or cancelled export leaves nothing behind. Also the factory's shape
 * and the registry wiring.
 */
import { execa } from "execa";
import { access, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXPORTS } from "../../runtime/export/index.js";
import { exportImage, exportVmware, exportGce, EXPORT_FORMATS } from "../../runtime/export/factory.js";
import { buildManifest, buildOvf, checkManifest, checkOvf } from "../../runtime/export/support/ovf.js";
import { checkVmx, parseVmx, renderVmx, vmxValue } from "../../runtime/export/support/vmx.js";
import { checkAzureVhd } from "../../runtime/export/support/vhd.js";
import { checkVhdx } from "../../runtime/export/support/vhdx.js";
import { checkVmdk } from "../../runtime/export/support/vmdk.js";
import { checkParallelsImage } from "../../runtime/export/support/parallels-disk.js";
import { hardware } from "../../runtime/export/support/settings.js";
import { loadPostProcessor } from "../../runtime/post/registry.js";
import { diskArtifact, makeCtx, repoRoot, smallDisk, tempDir } from "./helpers.js";

let dir: string;
let disk: string;

beforeAll(async () => {
  dir = await tempDir("rules");
  disk = await smallDisk(dir, 4 * 1024 * 1024);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const goodOvf = () => buildOvf({
  name: "vm", hardware: hardware({}, "vm", "080027"), cimOs: 96, vboxOsType: "Debian_64", controller: "sata", nic: "e1000",
  disk: { href: "vm-disk001.vmdk", size: 1000, capacity: 4194304 },
});
const files = [{ name: "vm-disk001.vmdk", size: 1000 }];

describe("OVF envelope rules", () => {
  it("accept the descriptor the export writes", () => {
    expect(checkOvf(goodOvf(), files)).toEqual([]);
  });

  it.each([
    ["a size that does not match the file", (x: string) => x.replace('ovf:size="1000"', 'ovf:size="999"'), /says ovf:size 999 but vm-disk001.vmdk has 1000 bytes/],
    ["a file missing from the package", (x: string) => x.replace('ovf:href="vm-disk001.vmdk"', 'ovf:href="other.vmdk"'), /refers to other.vmdk, which is not in the package/],
    ["References not first", (x: string) => x.replace(/(<References>[\s\S]*?<\/References>)([\s\S]*?)(<VirtualSystem )/, "$2$1$3"), /References must be the first element/],
    ["a disk pointing at an unknown file", (x: string) => x.replace('ovf:fileRef="file1"', 'ovf:fileRef="file9"'), /refers to File file9/],
    ["an unknown disk in HostResource", (x: string) => x.replace("ovf:/disk/vmdisk1", "ovf:/disk/vmdisk7"), /points at disk vmdisk7/],
    ["a duplicate InstanceID", (x: string) => x.replace("<rasd:InstanceID>2</rasd:InstanceID>", "<rasd:InstanceID>1</rasd:InstanceID>"), /InstanceID 1 is used twice/],
    ["rasd properties out of order", (x: string) => x.replace(/(<rasd:Caption>[^<]*<\/rasd:Caption>)(\s*)(<rasd:Description>[^<]*<\/rasd:Description>)/, "$3$2$1"), /schema order/],
    ["a section without Info", (x: string) => x.replace("<Info>Logical networks used in the package</Info>", ""), /NetworkSection must start with an Info/],
    ["a NIC on an unknown network", (x: string) => x.replace("<rasd:Connection>NAT</rasd:Connection>", "<rasd:Connection>Bridged</rasd:Connection>"), /connects to Bridged/],
    ["no CPU item", (x: string) => x.replace("<rasd:ResourceType>3</rasd:ResourceType>", "<rasd:ResourceType>1</rasd:ResourceType>"), /exactly one CPU Item/],
    ["a wrong namespace", (x: string) => x.replace(/xmlns="[^"]+"/, 'xmlns="urn:other"'), /root element must be Envelope/],
    ["broken XML", (x: string) => x.slice(0, 200), /not well-formed|root element|References/],
  ])("reject %s", (_what, mutate, message) => {
    const problems = checkOvf(mutate(goodOvf()), files);
    expect(problems.join("\n")).toMatch(message);
  });
});

describe("manifest rules", () => {
  const sums = [{ name: "a.ovf", sha256: "a".repeat(64) }, { name: "a.vmdk", sha256: "b".repeat(64) }];
  it("accept a manifest of every file", () => expect(checkManifest(buildManifest(sums), sums)).toEqual([]));
  it("reject a wrong digest, a missing file, an extra file and a malformed line", () => {
    const problems = checkManifest(`SHA256(a.ovf)= ${"c".repeat(64)}\nSHA256(x.iso)= ${"d".repeat(64)}\nSHA1(a.vmdk)= 00\n`, sums).join("\n");
    expect(problems).toMatch(/digest of a.ovf/);
    expect(problems).toMatch(/does not list a.vmdk/);
    expect(problems).toMatch(/lists x.iso, which is not in the package/);
    expect(problems).toMatch(/not "SHA256\(file\)= hex"/);
  });
});

describe("VMX rules", () => {
  const base: [string, string | boolean][] = [
    [".encoding", "UTF-8"], ["config.version", "8"], ["virtualHW.version", "14"], ["displayName", "vm"], ["guestOS", "debian8-64"],
    ["memsize", "1024"], ["numvcpus", "1"], ["scsi0.present", true], ["scsi0.virtualDev", "lsilogic"], ["scsi0:0.present", true],
    ["scsi0:0.fileName", "vm.vmdk"], ["ethernet0.present", true], ["ethernet0.connectionType", "nat"], ["ethernet0.virtualDev", "e1000"],
    ["ethernet0.addressType", "generated"],
  ];
  it("accept a complete VMX", () => expect(checkVmx(parseVmx(renderVmx(base)), "vm.vmdk")).toEqual([]));
  it("reject missing keys, a bad memory size, a wrong disk file and a MAC outside VMware's static range", () => {
    const bad = base.filter(([k]) => k !== "guestOS" && k !== "numvcpus").map(([k, v]) => [k, k === "memsize" ? "1023" : k === "scsi0:0.fileName" ? "other.vmdk" : k === "ethernet0.addressType" ? "static" : v] as [string, string | boolean]);
    const problems = checkVmx(parseVmx(renderVmx([...bad, ["ethernet0.address", "00:50:56:80:00:01"]])), "vm.vmdk").join("\n");
    for (const m of [/guestOS is missing/, /numvcpus is missing/, /memsize = "1023"/, /expected vm.vmdk/, /static range/]) expect(problems).toMatch(m);
  });
  it("encode values so a name can never break out of its quotes or line", () => {
    const name = 'a "quoted" | name\nwith a newline';
    const text = renderVmx([["displayName", name]]);
    expect(text.split("\n").filter(Boolean)).toHaveLength(1);
    expect(vmxValue(name)).not.toMatch(/["\n]/);
    expect(parseVmx(text).get("displayname")).toBe(name);
  });
});

describe("disk format rules", () => {
  it("Azure: reject a dynamic VHD, a size that is not a whole MiB, and a bad footer checksum", async () => {
    const dynamic = join(dir, "dynamic.vhd");
    await execa("qemu-img", ["create", "-q", "-f", "vpc", "-o", "subformat=dynamic", dynamic, "4M"]);
    expect((await checkAzureVhd(dynamic)).problems.join()).toMatch(/disk type is 3, Azure needs 2/);
    const odd = join(dir, "odd.vhd");
    await execa("qemu-img", ["create", "-q", "-f", "vpc", "-o", "subformat=fixed,force_size=on", odd, String(4 * 1024 * 1024 + 512)]);
    expect((await checkAzureVhd(odd)).problems.join()).toMatch(/not a whole number of MiB/);
    const good = join(dir, "good.vhd");
    await execa("qemu-img", ["create", "-q", "-f", "vpc", "-o", "subformat=fixed,force_size=on", good, "4M"]);
    expect((await checkAzureVhd(good)).problems).toEqual([]);
    const buf = await readFile(good);
    buf[buf.length - 512 + 100] ^= 0xff; // inside the footer's unique id
    await writeFile(good, buf);
    expect((await checkAzureVhd(good)).problems.join()).toMatch(/checksum/);
  });

  it("Hyper-V: reject a fixed VHDX and a wrong size", async () => {
    const fixed = join(dir, "fixed.vhdx");
    await execa("qemu-img", ["create", "-q", "-f", "vhdx", "-o", "subformat=fixed", fixed, "4M"]);
    const problems = (await checkVhdx(fixed, 8 * 1024 * 1024)).join();
    expect(problems).toMatch(/expected dynamic/);
    expect(problems).toMatch(/virtual size is 4194304, expected 8388608/);
  });

  it("VMDK: reject the wrong subformat; Parallels: reject a file that is not a Parallels disk", async () => {
    const sparse = join(dir, "sparse.vmdk");
    await execa("qemu-img", ["create", "-q", "-f", "vmdk", "-o", "subformat=monolithicSparse", sparse, "4M"]);
    expect((await checkVmdk(sparse, { createType: "streamOptimized", virtualSize: 4 * 1024 * 1024 })).join()).toMatch(/createType is monolithicSparse/);
    expect(await checkParallelsImage(sparse, 4 * 1024 * 1024)).toEqual([expect.stringMatching(/is not a Parallels disk/)]);
  });
});

async function leftovers(d: string): Promise<string[]> {
  try {
    return await readdir(d);
  } catch {
    return [];
  }
}

describe("errors leave nothing behind", () => {
  const run = (type: string, options: Record<string, unknown>, artifact = diskArtifact(disk), signal?: AbortSignal) =>
    EXPORTS.find((e) => e.type === type)!.run(artifact, options as never, makeCtx(dir, signal));

  it.each([
    ["export-virtualbox", { cpus: 0 }, /cpus must be a whole number from 1 to 64, got 0/],
    ["export-virtualbox", { memory: 1000 + 1 }, /memory must be a multiple of 4 MiB/],
    ["export-vmware", { hardwareVersion: 3 }, /hardwareVersion must be from 10 to 21, got 3/],
    ["export-vmware", { mac: "01:00:00:00:00:01" }, /multicast/],
    ["export-hyperv", { generation: 3 }, /generation must be 1 or 2/],
    ["export-hyperv", { secureBoot: true }, /secureBoot needs generation 2/],
    ["export-parallels", { name: "../escape" }, /export name "..\/escape" is not valid/],
    ["export-gce", { compressionLevel: 0 }, /compressionLevel must be 1 to 9/],
    ["export-vagrant", { providers: ["hyperv"] }, /providers must be a non-empty list of libvirt, virtualbox/],
  ])("%s with %j fails with a clear error and writes nothing", async (type, options, message) => {
    const out = join(dir, `bad-${type}-${Object.keys(options)[0]}`);
    const error = await run(type, { ...options, directory: { $path: out } }).then(() => undefined, (e: Error & { code?: string }) => e);
    expect(error?.message).toMatch(message);
    expect(error?.code).toBe("IMGC_EXPORT");
    expect(await leftovers(out)).toEqual([]);
  });

  it("a missing disk names the node and the path", async () => {
    const out = join(dir, "missing");
    await expect(run("export-azure", { directory: { $path: out } }, diskArtifact(join(dir, "nope.qcow2")))).rejects.toThrow(/the disk .*nope\.qcow2 of tiny\.qemu does not exist/);
    await expect(run("export-azure", { directory: { $path: out } }, { node: "x.docker", platform: "docker", id: "sha256:1", files: [], data: {} })).rejects.toThrow(/artifact of x.docker has no disk to export \(files: none\)/);
    expect(await leftovers(out)).toEqual([]);
  });

  it("a disk whose format the artifact misstates is refused by qemu-img", async () => {
    const out = join(dir, "misstated");
    await expect(run("export-azure", { directory: { $path: out } }, diskArtifact(disk, "vmdk"))).rejects.toThrow(/qemu-img info failed/);
    expect(await leftovers(out)).toEqual([]);
  });

  it("an export cancelled once it has started writing stops and removes its partial files", async () => {
    for (const type of EXPORTS.map((e) => e.type)) {
      const out = join(dir, `cancel-${type}`);
      const ac = new AbortController();
      const ctx = makeCtx(dir, ac.signal);
      // The first log line comes once the staging directory exists, just before the conversion starts.
      const cancelling = { ...ctx, log: { log: () => ac.abort(new Error("cancelled by the test")) } };
      const impl = EXPORTS.find((e) => e.type === type)!;
      await expect(impl.run(diskArtifact(disk), { directory: { $path: out } } as never, cancelling)).rejects.toThrow(/cancelled by the test/);
      expect(await leftovers(out), type).toEqual([]);
    }
  });

  it("an export cancelled before it starts writes nothing", async () => {
    const out = join(dir, "cancel-before");
    const ac = new AbortController();
    ac.abort(new Error("cancelled by the test"));
    await expect(run("export-gce", { directory: { $path: out } }, diskArtifact(disk), ac.signal)).rejects.toThrow(/cancelled by the test/);
    expect(await leftovers(out)).toEqual([]);
  });
});

describe("factory and registry", () => {
  it("exportImage makes one post-processor per format, shared settings merged under per-format ones", () => {
    const specs = exportImage({ formats: ["vmware", "azure", "hyperv"], cpus: 4, memory: 4096, name: "web", vmware: { hardwareVersion: 19, cpus: 8 } });
    expect(specs.map((s) => s.type)).toEqual(["export-vmware", "export-azure", "export-hyperv"]);
    const [vmware, azure, hyperv] = specs.map((s) => s.options as Record<string, unknown>);
    expect(vmware).toMatchObject({ name: "web", cpus: 8, memory: 4096, hardwareVersion: 19 });
    expect(azure).not.toHaveProperty("cpus");
    expect(hyperv).toMatchObject({ cpus: 4, memory: 4096 });
    expect(() => exportImage({ formats: ["gce", "gce"] })).toThrow(/listed twice/);
    expect(() => exportImage({ formats: [] })).toThrow(/non-empty list/);
    expect(() => exportImage({ formats: ["qcow3" as never] })).toThrow(/unknown export format "qcow3"/);
  });

  it("per-format factories record the output directory against the calling file, and only/except", () => {
    const spec = exportVmware({ directory: "dist", only: ["qemu"] });
    expect(spec.type).toBe("export-vmware");
    expect(spec.only).toEqual(["qemu"]);
    expect((spec.options.directory as { path: string }).path).toBe("dist");
    expect(exportGce().options.directory).toMatchObject({ path: "output" });
    // The site (diagnostics, relative paths) is the caller's line, not the factory's.
    expect(spec.site.file).toBe(fileURLToPath(import.meta.url));
    expect(exportImage({ formats: ["azure"] })[0]!.site.file).toBe(fileURLToPath(import.meta.url));
    expect(EXPORT_FORMATS).toHaveLength(7);
  });

  it("the factory module imports only lang/", async () => {
    const src = await readFile(join(repoRoot, "runtime/export/factory.ts"), "utf8");
    const imports = [...src.matchAll(/from "([^"]+)"/g)].map((m) => m[1]!);
    expect(imports.length).toBeGreaterThan(0);
    // lang/ and Node built-ins only: never runtime/, an SDK or qemu-img wrappers.
    for (const i of imports) expect(i).toMatch(/^(\.\.\/\.\.\/lang\/|node:)/);
  });

  it("every format is registered as a post-processor that runs through the registry and destroys what it made", async () => {
    const log = { log: () => {}, output: () => {}, track: () => {}, untrack: () => {} };
    const ctx = { node: "tiny.qemu", platformType: "qemu", projectRoot: dir, runId: "r", buildTime: 0, log, redact: () => {}, redactText: (t: string) => t };
    for (const format of EXPORT_FORMATS) {
      const impl = await loadPostProcessor(`export-${format}`);
      expect(impl.type).toBe(`export-${format}`);
    }
    const impl = await loadPostProcessor("export-azure");
    const out = join(dir, "registry");
    const result = await impl.run(diskArtifact(disk), { directory: { $path: out, rel: "registry" } }, ctx, new AbortController().signal);
    expect(result.artifact?.id).toBe(join(out, "tiny.vhd"));
    await access(result.artifact!.id);
    await impl.destroy!(result.artifact!, new AbortController().signal);
    expect(await leftovers(out)).toEqual([]);
  });
});
