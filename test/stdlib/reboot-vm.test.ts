/**
 * `reboot()` end to end on a real VM: `imgc apply` with the QEMU platform (TCG) on the tiny test
 * VM (busybox init + dropbear). The reboot step loses its SSH connection as expected, the
 * communicator reconnects, and the step after it proves (by the kernel's boot id) that the VM
 * really restarted. Needs `npm run build:js` (the CLI runs from dist/).
 */
import { execa } from "execa";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyVm, type TestVm } from "../vm/paths.js";

const repo = join(import.meta.dirname, "..", "..");
let dir: string;
let vm: TestVm;

beforeAll(async () => {
  if (!existsSync(join(repo, "dist", "stdlib", "index.js"))) throw new Error("dist/ is missing: run npm run build:js first");
  vm = await tinyVm();
  dir = mkdtempSync(join(tmpdir(), "imgc-stdlib-reboot-"));
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const qemuProcesses = async (): Promise<string[]> =>
  (await execa("pgrep", ["-f", `qemu-system.*${dir}`], { reject: false })).stdout.split("\n").filter(Boolean);

describe("reboot() on a QEMU VM through imgc apply", () => {
  it("reboots, reconnects, and the next step runs on the new boot", async () => {
    writeFileSync(join(dir, "images.ts"), `import { image } from "imgc";
import { qemu } from "imgc/platforms/qemu";
import { shell } from "imgc/provisioners";
import { reboot } from "imgc/stdlib";
export default image("rebooted", {
  platforms: [qemu({
    sourceImage: ${JSON.stringify(vm.disk)},
    kernel: ${JSON.stringify(vm.kernel)},
    initrd: ${JSON.stringify(vm.initrd)},
    append: ${JSON.stringify(vm.append)},
    memory: 256,
    accelerator: "tcg",
    ssh: { username: ${JSON.stringify(vm.username)}, password: ${JSON.stringify(vm.password)}, timeout: "4m" },
    shutdownCommand: "poweroff",
    outputDirectory: "out",
  })],
  provision: [
    shell({ inline: ["cat /proc/sys/kernel/random/boot_id > /root/boot-before"] }),
    reboot({ command: "reboot", pauseAfter: "2s" }),
    shell({ inline: ['test "$(cat /proc/sys/kernel/random/boot_id)" != "$(cat /root/boot-before)"', "echo NEW-BOOT-CONFIRMED"] }),
  ],
});
`);
    const r = await execa("node", [join(repo, "bin", "imgc.js"), "apply", "images.ts"], { cwd: dir, reject: false, env: { CI: "1" } });
    const output = `${r.stdout}\n${r.stderr}`;
    expect(r.exitCode, output).toBe(0);
    expect(output).toContain("imgc reboot: rebooting");
    expect(output).toMatch(/connection lost as expected; reconnecting/);
    expect(output).toContain("imgc reboot: back after reboot");
    expect(output).toContain("NEW-BOOT-CONFIRMED");
    expect(existsSync(join(dir, "out", "rebooted.qcow2"))).toBe(true);
    expect(await qemuProcesses()).toEqual([]);
  }, 600_000);
});
