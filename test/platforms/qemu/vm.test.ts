/**
 * The QEMU driver with real VMs (TCG), on the tiny test VM (test/vm/build-tiny.sh): three VMs
 * in all, each shared by several assertions.
 *  1. image `a` from the test disk: the boot command typed into the guest's console shows up
 *     on the serial log; provisioners write files and install a file tree; the guest fetches
 *     from the HTTP directory; ACPI power-off is clean; the output is a standalone qcow2.
 *  2. image `b` `from` `a`: its build disk is an overlay on a's output, its VM boots it and
 *     finds a's changes (so they persisted through the shutdown), and it keeps its backing file.
 *  3. Ctrl-C (abort) during provisioning: no qemu process, no temporary file, no output left.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processBackend } from "../../../runtime/platforms/qemu/backend-process.js";
import { qemuDriver } from "../../../runtime/platforms/qemu/driver.js";
import type { QemuOptions } from "../../../runtime/platforms/qemu/factory.js";
import type { ArtifactRecord } from "../../../runtime/types.js";
import { tinyVm, type TestVm } from "../../vm/paths.js";
import { processAlive, removeWorkDir, runDriver, sh, type RunResult } from "./harness.js";

let vm: TestVm;
let project: string;
let a: RunResult;
const driver = qemuDriver();

function base(extra: Partial<QemuOptions>): QemuOptions {
  return {
    sourceImage: vm.disk,
    kernel: vm.kernel,
    initrd: vm.initrd,
    append: vm.append,
    memory: 256,
    ssh: { username: vm.username, privateKeyFile: vm.privateKeyFile, timeout: "10m" },
    ...extra,
  } as QemuOptions;
}

/** QMP socket directories of a VM of this name (they are named after the VM). */
async function qmpDirs(vmName: string): Promise<string[]> {
  return (await readdir(tmpdir())).filter((n) => n.startsWith(`imgc-qmp-${vmName}-`));
}

beforeAll(async () => {
  vm = await tinyVm();
  project = await mkdtemp(join(tmpdir(), "imgc-qemu-project-"));
  await mkdir(join(project, "http"), { recursive: true });
  await writeFile(join(project, "http", "hello.txt"), "served-by-imgc\n");
  await mkdir(join(project, "tree", "sub"), { recursive: true });
  await writeFile(join(project, "tree", "a.txt"), "tree-a\n");
  await writeFile(join(project, "tree", "sub", "b.txt"), "tree-b\n");
});

afterAll(async () => {
  if (project) await rm(project, { recursive: true, force: true });
});

describe("qemu driver on real VMs", () => {
  it("builds an image: boot command, provisioning, HTTP directory, ACPI shutdown, standalone output", async () => {
    const qmpBefore = await qmpDirs("a");
    a = await runDriver(driver, {
      image: "a",
      projectRoot: project,
      options: base({
        httpDirectory: "http",
        // Typed into the root shell on tty1 (the VGA console); the guest evaluates $((6*7)),
        // so the marker on the serial log proves the keys were typed and run. Typed eight
        // times over ~50 s, since the shell may not be on tty1 yet when typing starts (slow hosts).
        bootWait: "7s",
        bootKeyInterval: "50ms",
        bootCommand: Array.from({ length: 8 }, () => "echo BOOTCMD-OK-$((6*7)) >/dev/ttyS0<enter><wait5>"),
        serialLog: "logs/a-serial.log",
        outputDirectory: "out/a",
      }),
      provision: async (comm, ctx) => {
        await sh(comm, "echo built-by-imgc > /etc/imgc-marker");
        await comm.uploadDir("/opt", join(project, "tree"), {}, new AbortController().signal);
        const { httpIp, httpPort } = ctx.env.facts;
        expect(httpIp).toBe("10.0.2.2");
        await sh(comm, `wget -q -O /root/fetched.txt http://${httpIp}:${httpPort}/hello.txt`);
      },
    });
    if (a.error) throw new Error(`${a.error.message}\n${a.logs.join("\n")}`);
    expect(a.outcome).toBe("ok");
    const art = a.artifact!;
    const data = art.data as Record<string, unknown>;
    expect(art.files).toEqual([join(project, "out/a/a.qcow2")]);
    expect(data.format).toBe("qcow2");
    expect(data.sha256).toBe(createHash("sha256").update(await readFile(art.files[0]!)).digest("hex"));
    const info = await processBackend().diskInfo(art.files[0]!, new AbortController().signal);
    expect(info.format).toBe("qcow2");
    expect(info.backingFile).toBeUndefined();

    const serial = await readFile(join(project, "logs/a-serial.log"), "utf8");
    expect(serial, a.logs.join("\n")).toContain("BOOTCMD-OK-42");
    expect(serial).toContain("IMGC-TINY-ROOT-RO"); // the guest remounted / read-only: a clean power-off
    expect(a.logs.some((l) => l.includes("ACPI power button"))).toBe(true);
    // `auto` ran the real probe: its choice matches what this machine's KVM does.
    const probe = processBackend().probe;
    const kvmOpens = await probe.kvmDeviceOpens();
    const kvmRuns = kvmOpens && (await probe.kvmTestStart(2000, new AbortController().signal));
    const chosen = a.logs.find((l) => l.startsWith("info: accelerator: "));
    if (kvmRuns) expect(chosen).toMatch(/accelerator: kvm \(/);
    else {
      expect(chosen).toMatch(/accelerator: tcg \(/);
      expect(a.logs.some((l) => l.startsWith("warn: ") && l.includes("using TCG"))).toBe(true);
      if (kvmOpens) expect(chosen).toContain("did not run to its marker");
      else expect(chosen).toContain("/dev/kvm cannot be opened");
    }

    // Nothing left: VM gone, resources untracked, no temporary disk or socket.
    expect(processAlive(a.ctx.vm?.pid ?? Number(a.ctx.env.facts.instanceId))).toBe(false);
    expect(a.live).toEqual([]);
    expect((await readdir(a.workDir)).filter((f) => f !== "serial.log")).toEqual([]);
    expect((await qmpDirs("a")).filter((d) => !qmpBefore.includes(d))).toEqual([]);
    expect(a.cleaned).toEqual(["output", "shutdown", "provision", "wait-ssh", "boot-command", "start-vm", "accelerator", "http-server", "media", "create-disk"]);
    await removeWorkDir(a);
  }, 900_000);

  it("builds an image from it on a backing file; its VM finds the first image's changes", async () => {
    expect(a?.artifact, "needs the first image").toBeDefined();
    const seen: Record<string, string> = {};
    const b = await runDriver(driver, {
      image: "b",
      projectRoot: project,
      upstream: { node: "a.qemu", artifact: a.artifact as ArtifactRecord },
      options: {
        kernel: vm.kernel,
        initrd: vm.initrd,
        append: vm.append,
        memory: 256,
        accelerator: "tcg",
        ssh: { username: vm.username, password: vm.password, timeout: "10m" },
        shutdownCommand: "poweroff",
        keepBackingFile: true,
        outputDirectory: "out/b",
      },
      provision: async (comm) => {
        seen.marker = await sh(comm, "cat /etc/imgc-marker");
        seen.tree = await sh(comm, "cat /opt/tree/a.txt /opt/tree/sub/b.txt");
        seen.fetched = await sh(comm, "cat /root/fetched.txt");
        await sh(comm, "echo derived > /etc/b-marker");
      },
    });
    if (b.error) throw new Error(`${b.error.message}\n${b.logs.join("\n")}`);
    expect(seen).toEqual({ marker: "built-by-imgc\n", tree: "tree-a\ntree-b\n", fetched: "served-by-imgc\n" });
    expect(b.logs.some((l) => l.includes(`build disk: overlay on ${a.artifact!.files[0]}`))).toBe(true);
    const out = b.artifact!;
    expect((out.data as Record<string, unknown>).backingFile).toBe(a.artifact!.files[0]);
    const info = await processBackend().diskInfo(out.files[0]!, new AbortController().signal);
    expect(info.backingFile).toBe(a.artifact!.files[0]);
    expect(b.logs.some((l) => l.includes("running the shutdown command"))).toBe(true);
    expect(b.live).toEqual([]);
    await removeWorkDir(b);
    // destroy deletes the files; exists says so.
    expect(await driver.exists!(out, { projectRoot: project, log: a.ctx.env.log }, new AbortController().signal)).toBe(true);
    await driver.destroy!(out, { projectRoot: project, log: a.ctx.env.log }, new AbortController().signal);
    expect(await driver.exists!(out, { projectRoot: project, log: a.ctx.env.log }, new AbortController().signal)).toBe(false);
  }, 900_000);

  it("Ctrl-C during provisioning leaves no qemu process, no temporary file and no output", async () => {
    const qmpBefore = await qmpDirs("c");
    const controller = new AbortController();
    let pid = 0;
    const c = await runDriver(driver, {
      image: "c",
      projectRoot: project,
      signal: controller.signal,
      options: base({ accelerator: "tcg", outputDirectory: "out/c" }),
      provision: async (comm, ctx, signal) => {
        pid = ctx.vm!.pid;
        const running = comm.exec({ command: "sleep 60" }, signal);
        setTimeout(() => controller.abort(new Error("interrupted (SIGINT)")), 300);
        await running;
        signal.throwIfAborted();
      },
    });
    expect(c.outcome).toBe("cancelled");
    expect(pid).toBeGreaterThan(0);
    expect(processAlive(pid)).toBe(false);
    expect(c.live).toEqual([]);
    expect((await readdir(c.workDir)).filter((f) => f !== "serial.log")).toEqual([]);
    expect((await qmpDirs("c")).filter((d) => !qmpBefore.includes(d))).toEqual([]);
    expect(await readdir(join(project, "out")).then((d) => d.includes("c"))).toBe(false);
    expect(c.artifact).toBeUndefined();
    await removeWorkDir(c);
  }, 900_000);
});
