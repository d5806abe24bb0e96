// `imgc apply` as a real child process, on a project that uses the third-party dirtree platform
// (examples/plugin) installed through a file: dependency: it builds, a second apply is all up to
// date, and SIGINT mid-step runs the cleanups and leaves nothing behind.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { EventBus, type RuntimeEvent } from "../../runtime/events.js";
import { LiveResources } from "../../runtime/node-log.js";
import { Redactor } from "../../runtime/redact.js";
import { handleSignals } from "../../runtime/signals.js";

const repo = join(import.meta.dirname, "..", "..");
const bin = join(repo, "bin", "imgc.js");

/** A fresh project with imgc and the plugin installed as file: dependencies. */
function project(images: string): string {
  const dir = mkdtempSync(join(tmpdir(), "imgc-plugin-project-"));
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "p", private: true, type: "module", dependencies: { imgc: `file:${repo}`, "imgc-plugin-dirtree": `file:${join(repo, "examples", "plugin")}` } }),
  );
  writeFileSync(join(dir, "images.ts"), images);
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--offline", "--ignore-scripts"], { cwd: dir, stdio: "ignore" });
  return dir;
}

function imgc(dir: string, args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: "utf8", env: { ...process.env, CI: "1" } });
}

/** Runs imgc on a pseudo-terminal (util-linux `script`), typing `input`; stdout holds the terminal's output. */
function onTerminal(dir: string, args: string[], input: string) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.CI;
  const command = [process.execPath, bin, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const r = spawnSync("script", ["-qec", command, "/dev/null"], { cwd: dir, encoding: "utf8", env, input });
  return { status: r.status, stdout: r.stdout };
}

/** Pids whose command line contains `text` (from /proc: no procps needed). */
function processesRunning(text: string): string[] {
  return readdirSync("/proc").filter((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").includes(text);
    } catch {
      return false;
    }
  });
}

const stagingDirs = () => readdirSync(tmpdir()).filter((n) => n.startsWith("imgc-dirtree-"));

beforeAll(() => {
  if (!existsSync(join(repo, "dist", "cli", "main.js"))) execFileSync("npm", ["run", "build:js"], { cwd: repo, stdio: "ignore" });
}, 120_000);

describe("imgc apply (child process) with a plugin platform", () => {
  it("builds the example project, then finds it all up to date", () => {
    const dir = project(readFileSync(join(repo, "examples", "plugin", "project", "images.ts"), "utf8"));
    const first = imgc(dir, ["apply", "images.ts"]);
    expect(first.stderr).toBe("");
    expect(first.status, `${first.stdout}\n${first.stderr}`).toBe(0);
    expect(first.stdout).toContain("base.dirtree: built: sha256:");
    expect(first.stdout).toContain("app.dirtree: built: sha256:");
    const layers = execFileSync("tar", ["-xzOf", join(dir, "out", "app.dirtree.tar.gz"), "./usr/share/app/layer"]).toString();
    expect(layers).toBe("base\napp\n");
    expect(execFileSync("tar", ["-xzOf", join(dir, "out", "app.dirtree.tar.gz"), "./etc/motd"]).toString()).toBe("hello from imgc\n");
    expect(readFileSync(join(dir, "out", "app.dirtree.sha256"), "utf8")).toMatch(/^[0-9a-f]{64}\tapp\.dirtree\.tar\.gz\n$/);
    const second = imgc(dir, ["apply", "images.ts", "--json"]);
    expect(second.status, `${second.stdout}\n${second.stderr}`).toBe(0);
    const events = second.stdout.trim().split("\n").map((l) => JSON.parse(l) as RuntimeEvent);
    const end = events.find((e) => e.type === "apply.end") as Extract<RuntimeEvent, { type: "apply.end" }>;
    expect(end.upToDate).toEqual(["base.dirtree", "app.dirtree"]);
    expect(end.built).toEqual([]);
    // A changed variable rebuilds both, naming why.
    const plan = imgc(dir, ["plan", "images.ts", "--var", "greeting=hi"]);
    expect(plan.stdout).toMatch(/~ base\.dirtree .*rebuild because/);
    // destroy asks first: without a terminal it needs --yes, and deletes nothing.
    const unconfirmed = imgc(dir, ["destroy", "images.ts"]);
    expect(unconfirmed.status, unconfirmed.stderr).toBe(2);
    expect(unconfirmed.stderr).toContain("would delete 2 artifacts (app.dirtree, base.dirtree); pass --yes to confirm");
    expect(existsSync(join(dir, "out", "app.dirtree.tar.gz"))).toBe(true);
    // On a terminal it lists what goes and takes only "yes".
    const declined = onTerminal(dir, ["destroy", "images.ts"], "no\n");
    expect(declined.status, declined.stdout).toBe(7);
    expect(declined.stdout).toMatch(/will delete:\s+- app\.dirtree \(dirtree\): \S+/);
    expect(declined.stdout).toContain("Only 'yes' will be accepted");
    expect(existsSync(join(dir, "out", "app.dirtree.tar.gz"))).toBe(true);
    const destroy = imgc(dir, ["destroy", "images.ts", "--yes"]);
    expect(destroy.status, destroy.stderr).toBe(0);
    expect(existsSync(join(dir, "out", "app.dirtree.tar.gz"))).toBe(false);
    expect(imgc(dir, ["state", "list", "-f", "images.ts"]).stdout).toContain("records no artifacts");
  });

  it("SIGINT mid-step cancels, runs the cleanups and leaves nothing behind", async () => {
    const dir = project(`
      import { image } from "imgc";
      import { shell } from "imgc/provisioners";
      import { dirtree } from "imgc-plugin-dirtree";
      export default image("slow", { platforms: [dirtree({})], provision: [shell({ inline: ["echo ready-to-interrupt", "sleep 457"] })] });
    `);
    const before = stagingDirs();
    const child = spawn(process.execPath, [bin, "apply", "images.ts"], { cwd: dir, env: { ...process.env, CI: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("slow.dirtree: ready-to-interrupt")) resolve();
      });
      child.once("exit", () => reject(new Error(`apply ended before the step was interrupted:\n${out}`)));
    });
    expect(stagingDirs().length).toBe(before.length + 1);
    child.kill("SIGINT");
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    expect(code).toBe(130);
    expect(out).toContain("SIGINT: cancelling");
    expect(out).toMatch(/slow\.dirtree: cancelled/);
    // Nothing left: no staging directory, no sleep, no tarball, no lock, nothing in the state.
    expect(stagingDirs()).toEqual(before);
    expect(processesRunning("sleep 457")).toEqual([]);
    expect(existsSync(join(dir, "out"))).toBe(false);
    expect(existsSync(join(dir, ".imgc", "state.json.lock"))).toBe(false);
    expect(readFileSync(join(dir, ".imgc", "logs", "slow.dirtree.log"), "utf8")).toContain("cleanup stage (cancelled)");
  });
});

describe("signal handling", () => {
  it("first: cancel; second: cleanup is running; third: exit at once listing what may be left", () => {
    const controller = new AbortController();
    const bus = new EventBus(new Redactor());
    const events: RuntimeEvent[] = [];
    bus.on((e) => events.push(e));
    const live = new LiveResources();
    live.track("web.qemu", { kind: "vm", id: "pid 4242" });
    let stderr = "";
    const exits: number[] = [];
    const off = handleSignals({ controller, bus, live, stderr: { write: (s: string) => ((stderr += s), true) } as never, exit: (c) => void exits.push(c) });
    try {
      process.emit("SIGINT", "SIGINT");
      expect(controller.signal.aborted).toBe(true);
      process.emit("SIGTERM", "SIGTERM");
      expect(exits).toEqual([]);
      process.emit("SIGINT", "SIGINT");
      expect(exits).toEqual([130]);
    } finally {
      off();
    }
    const messages = events.filter((e) => e.type === "signal").map((e) => (e as { message: string }).message);
    expect(messages[0]).toMatch(/^SIGINT: cancelling/);
    expect(messages[1]).toMatch(/^SIGTERM: cleanup is running/);
    expect(stderr).toContain("web.qemu: vm pid 4242");
  });
});
