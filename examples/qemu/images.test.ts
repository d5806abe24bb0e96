/**
 * The QEMU example end to end through the CLI: `imgc apply` builds `base` in a real VM and
 * `app` from it on an overlay; a second apply has nothing to do; Ctrl-C (SIGINT) during
 * provisioning leaves no qemu process, no QMP socket and no partial disk; `imgc destroy`
 * deletes the disks. Runs on the tiny test VM's bootable disk (GRUB, like the Debian VM the
 * example defaults to), handed over through IMGC_QEMU_EXAMPLE_VM, to keep CI short. Needs
 * `npm run build:js` (the CLI runs from dist/).
 */
import { execa } from "execa";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processBackend } from "../../runtime/platforms/qemu/backend-process.js";
import { tinyVm } from "../../test/vm/paths.js";

const repo = join(import.meta.dirname, "..", "..");
const cli = join(repo, "bin", "imgc.js");
let dir: string;
let env: Record<string, string>;

/** QMP socket directories of the interrupted build's VM (named after it). */
const qmpDirs = () => readdirSync(tmpdir()).filter((n) => n.startsWith("imgc-qmp-slow-"));
const qemuProcesses = async (): Promise<string[]> => (await execa("pgrep", ["-f", `qemu-system.*${dir}`], { reject: false })).stdout.split("\n").filter(Boolean);

beforeAll(async () => {
  if (!existsSync(join(repo, "dist", "runtime", "platforms", "qemu", "driver.js"))) throw new Error("dist/ is missing: run npm run build:js first");
  const vm = await tinyVm();
  dir = mkdtempSync(join(tmpdir(), "imgc-example-qemu-"));
  cpSync(import.meta.dirname, dir, { recursive: true, filter: (src) => !/(output|\.imgc|images\.test\.ts)$/.test(src) });
  // The example's layout (disk.qcow2, id_ed25519) over the tiny VM's files.
  const vmDir = join(dir, "vm");
  mkdirSync(vmDir);
  symlinkSync(vm.bootableDisk, join(vmDir, "disk.qcow2"));
  symlinkSync(vm.privateKeyFile, join(vmDir, "id_ed25519"));
  env = { CI: "1", IMGC_QEMU_EXAMPLE_VM: vmDir };
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("examples/qemu", () => {
  it("builds base and app, then is up to date", async () => {
    const r = await execa("node", [cli, "apply", "images.ts"], { cwd: dir, reject: false, env });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(r.exitCode, out).toBe(0);
    const base = join(dir, "output", "base.qcow2");
    const app = join(dir, "output", "app.qcow2");
    expect(existsSync(base) && existsSync(app), out).toBe(true);
    const info = await processBackend().diskInfo(app, new AbortController().signal);
    expect(info.backingFile).toBeUndefined(); // written out standalone
    expect(out).toContain("hello from an imgc-built VM");
    expect(out).toMatch(/overlay on .*base\.qcow2/);
    expect(await qemuProcesses()).toEqual([]);

    const again = await execa("node", [cli, "apply", "images.ts"], { cwd: dir, reject: false, env });
    expect(again.exitCode, again.stdout + again.stderr).toBe(0);
    expect(again.stdout + again.stderr).not.toMatch(/VM started/);

  }, 900_000);

  it("Ctrl-C during provisioning leaves no VM, socket or partial disk", async () => {
    writeFileSync(
      join(dir, "interrupt.ts"),
      `import { image } from "imgc";
import { shell } from "imgc/provisioners";
import { base } from "./images.ts";
export default image("slow", { from: base, provision: [shell({ inline: ["echo PROVISIONING-STARTED", "sleep 120"] })] });
`,
    );
    const before = qmpDirs();
    const child = execa("node", [cli, "apply", "interrupt.ts"], { cwd: dir, reject: false, env, all: true });
    let seen = "";
    await new Promise<void>((resolve) => {
      child.all!.on("data", (b: Buffer) => {
        seen += b.toString();
        if (seen.includes("PROVISIONING-STARTED")) resolve();
      });
      void child.then(() => resolve());
    });
    expect(seen, seen).toContain("PROVISIONING-STARTED");
    child.kill("SIGINT");
    const r = await child;
    expect(r.exitCode, r.all).not.toBe(0);
    expect(await qemuProcesses()).toEqual([]);
    expect(qmpDirs().filter((d) => !before.includes(d))).toEqual([]);
    expect(readdirSync(join(dir, "output")).filter((f) => f.startsWith("slow"))).toEqual([]);
  }, 900_000);

  it("imgc destroy deletes the disks", async () => {
    const base = join(dir, "output", "base.qcow2");
    const app = join(dir, "output", "app.qcow2");
    expect(existsSync(base) && existsSync(app)).toBe(true);
    const d = await execa("node", [cli, "destroy", "images.ts", "--yes"], { cwd: dir, reject: false, env });
    expect(d.exitCode, d.stdout + d.stderr).toBe(0);
    expect(existsSync(base) || existsSync(app)).toBe(false);
  }, 120_000);
});
