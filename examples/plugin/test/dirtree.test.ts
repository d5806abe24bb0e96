// The plugin's own test: runs its driver through imgc's public plugin API (`imgc/runtime`), the
// way `imgc apply` does, and checks the tarball and that nothing is left on failure or abort.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

const here = join(import.meta.dirname, "..");
type Runtime = typeof import("imgc/runtime");
let rt: Runtime;
let driver: import("imgc/runtime").PlatformDriver;

beforeAll(async () => {
  // imgc is a file: dev dependency (a link): install it when this is a fresh clone.
  if (!existsSync(join(here, "node_modules", "imgc"))) {
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--offline", "--ignore-scripts"], { cwd: here, stdio: "ignore" });
  }
  rt = await import("imgc/runtime");
  driver = (await import("../src/driver.ts")).default;
}, 120_000);

function env(projectRoot: string, options: object, upstream: Record<string, import("imgc/runtime").ArtifactRecord> = {}) {
  const left = new Map<string, string>();
  const node = { id: "t.dirtree", image: "t", platform: "dirtree", type: "dirtree", provision: [] } as unknown as import("imgc/runtime").GraphNode;
  return {
    left,
    env: {
      resolved: { node, options, upstream },
      projectRoot,
      workDir: projectRoot,
      log: { log() {}, output() {}, track: (r: { id: string; kind: string }) => void left.set(r.id, r.kind), untrack: (r: { id: string }) => void left.delete(r.id) },
      redact() {},
      facts: {},
      runId: "test",
    } as unknown as import("imgc/runtime").DriverEnv,
  };
}

async function build(projectRoot: string, options: object, commands: string[], signal = new AbortController().signal, upstream = {}) {
  const { env: e, left } = env(projectRoot, options, upstream);
  const ctx = await driver.createContext(e);
  const steps = driver.steps(ctx).map((s) =>
    s === rt.PROVISION
      ? {
          name: "provision",
          async run(c: unknown, sig: AbortSignal) {
            for (const command of commands) {
              const r = await driver.communicator(c)!.exec({ command }, sig);
              if (r.exitCode !== 0) throw new Error(`${command} exited with ${r.exitCode}`);
            }
          },
        }
      : s,
  );
  const result = await rt.runSteps(steps as never, ctx, { signal });
  return { result, artifact: result.outcome === "ok" ? driver.artifact(ctx) : undefined, left };
}

function tarList(path: string): string[] {
  return execFileSync("tar", ["-tzf", path]).toString().trim().split("\n").sort();
}

describe("dirtree", () => {
  it("builds a tarball from files and provisioners, and a second one on top of it", async () => {
    const root = mkdtempSync(join(tmpdir(), "dirtree-"));
    const base = await build(root, { files: { "etc/motd": "hi\n" }, output: "out/base.tgz" }, ["mkdir -p var/lib && echo x > var/lib/state", 'test "$(pwd)" = "$IMGC_ROOT"']);
    expect(base.result.outcome).toBe("ok");
    expect(base.artifact!.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(tarList(join(root, "out/base.tgz"))).toEqual(["./", "./etc/", "./etc/motd", "./var/", "./var/lib/", "./var/lib/state"]);
    expect(base.left.size).toBe(0);
    expect(await driver.exists!(base.artifact!, { projectRoot: root } as never, new AbortController().signal)).toBe(true);
    const app = await build(root, { output: "out/app.tgz" }, ["echo app > app"], undefined, { "base.dirtree": base.artifact! });
    expect(tarList(join(root, "out/app.tgz"))).toContain("./etc/motd");
    expect(tarList(join(root, "out/app.tgz"))).toContain("./app");
    await driver.destroy!(base.artifact!, { projectRoot: root } as never, new AbortController().signal);
    expect(await driver.exists!(base.artifact!, { projectRoot: root } as never, new AbortController().signal)).toBe(false);
  });

  it("a failing provisioner leaves no staging directory and no tarball", async () => {
    const root = mkdtempSync(join(tmpdir(), "dirtree-"));
    const before = readdirSync(tmpdir()).filter((n) => n.startsWith("imgc-dirtree-")).length;
    const r = await build(root, {}, ["exit 3"]);
    expect(r.result.outcome).toBe("failed");
    expect(r.left.size).toBe(0);
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith("imgc-dirtree-")).length).toBe(before);
    expect(existsSync(join(root, "out"))).toBe(false);
  });

  it("an abort mid-provision kills the command and cleans up", async () => {
    const root = mkdtempSync(join(tmpdir(), "dirtree-"));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const r = await build(root, {}, ["sleep 30"], ac.signal);
    expect(r.result.outcome).toBe("cancelled");
    expect(r.left.size).toBe(0);
  });
});
