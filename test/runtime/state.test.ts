import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { EXIT } from "../../runtime/exit-codes.js";
import { acquireLock, LockTimeoutError } from "../../runtime/state/lock.js";
import { readState, STATE_SCHEMA } from "../../runtime/state/store.js";
import { fakeGraph, fakeNode } from "../fakes/fake-platform.js";
import { fakeBackend, ofType, run, tempRoot } from "./helpers.js";

const backend = fakeBackend();
beforeEach(() => backend.reset());
const repo = join(import.meta.dirname, "..", "..");

describe("state", () => {
  beforeAll(() => {
    // The crash test runs the built module in a child process.
    if (!existsSync(join(repo, "dist", "runtime", "state", "atomic-write.js"))) spawnSync("npm", ["run", "build:js"], { cwd: repo, stdio: "ignore" });
  });

  it("records each built node with its key, artifact and inputs, schema-versioned", async () => {
    const root = tempRoot();
    const r = await run(fakeGraph(root, [fakeNode("base.fake"), fakeNode("web.fake", { deps: ["base.fake"] })]));
    expect(r.exitCode).toBe(EXIT.OK);
    const state = await readState(join(root, ".imgc", "state.json"));
    expect(state.schema).toBe(STATE_SCHEMA);
    expect(Object.keys(state.nodes)).toEqual(["base.fake", "web.fake"]);
    expect(state.nodes["web.fake"]!.inputs).toEqual({ "base.fake": state.nodes["base.fake"]!.artifact.id });
    expect(state.nodes["web.fake"]!.runId).toBe(r.runId);
    expect(existsSync(join(root, ".imgc", "state.json.lock"))).toBe(false);
  });

  it("--state PATH puts the state elsewhere", async () => {
    const root = tempRoot();
    const statePath = join(tempRoot(), "custom", "s.json");
    await run(fakeGraph(root, [fakeNode("a.fake")]), { statePath });
    expect(Object.keys((await readState(statePath)).nodes)).toEqual(["a.fake"]);
    expect(existsSync(join(root, ".imgc", "state.json"))).toBe(false);
  });

  it("a crash mid-write leaves the previous state readable", async () => {
    const dir = tempRoot();
    const path = join(dir, "state.json");
    // A child writes ever larger states in a loop (bounded); we SIGKILL it while it writes.
    const script = `
      import { writeFileAtomic } from ${JSON.stringify(join(repo, "dist/runtime/state/atomic-write.js"))};
      const pad = "x".repeat(4 * 1024 * 1024);
      for (let i = 1; i <= 400; i++) {
        await writeFileAtomic(${JSON.stringify(path)}, JSON.stringify({ schema: 1, serial: i, nodes: {}, pad }));
        if (i === 3) process.stdout.write("go\\n");
      }`;
    for (let attempt = 0; attempt < 3; attempt++) {
      const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
      await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
      await new Promise((r) => setTimeout(r, 20 + attempt * 37));
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
      const text = readFileSync(path, "utf8");
      const parsed = JSON.parse(text) as { serial: number };
      expect(parsed.serial).toBeGreaterThanOrEqual(3);
      expect((await readState(path)).serial).toBe(parsed.serial);
    }
  });

  it("a second apply on the same folder waits, then fails naming the holder's pid and host", async () => {
    const root = tempRoot();
    let release!: () => void;
    backend.gates.set("boot", new Promise<void>((r) => (release = r)));
    const first = run(fakeGraph(root, [fakeNode("a.fake")]));
    while (!existsSync(join(root, ".imgc", "state.json.lock"))) await new Promise((r) => setTimeout(r, 5));
    const second = await run(fakeGraph(root, [fakeNode("a.fake")]), { lockTimeoutMs: 300 });
    expect(second.exitCode).toBe(EXIT.LOCKED);
    const logs = ofType(second.events, "log").map((e) => e.message);
    expect(logs.some((m) => m.startsWith("waiting for the state lock"))).toBe(true);
    expect(logs.some((m) => m.includes(`pid ${process.pid} on host ${hostname()}`))).toBe(true);
    release();
    expect((await first).exitCode).toBe(EXIT.OK);
  });

  it("a second apply that waits long enough gets the lock once the first is done", async () => {
    const root = tempRoot();
    let release!: () => void;
    backend.gates.set("boot", new Promise<void>((r) => (release = r)));
    const first = run(fakeGraph(root, [fakeNode("a.fake")]));
    while (!existsSync(join(root, ".imgc", "state.json.lock"))) await new Promise((r) => setTimeout(r, 5));
    const second = run(fakeGraph(root, [fakeNode("a.fake")]), { lockTimeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 100));
    release();
    expect((await first).exitCode).toBe(EXIT.OK);
    const s = await second;
    expect(s.exitCode).toBe(EXIT.OK);
    expect(s.statuses.get("a.fake")).toBe("up-to-date");
  });

  it("a lock left by a dead process is taken over with a warning", async () => {
    const root = tempRoot();
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]).stdout.toString();
    mkdirSync(join(root, ".imgc"), { recursive: true });
    writeFileSync(join(root, ".imgc", "state.json.lock"), JSON.stringify({ pid: Number(dead), host: hostname(), since: "2026-01-01T00:00:00Z", command: "apply" }));
    const r = await run(fakeGraph(root, [fakeNode("a.fake")]));
    expect(r.exitCode).toBe(EXIT.OK);
    const warn = ofType(r.events, "log").find((e) => e.level === "warn")!;
    expect(warn.message).toContain(`pid ${dead}`);
    expect(warn.message).toContain("no longer running");
  });

  it("a live holder on another host is never taken over", async () => {
    const dir = tempRoot();
    const statePath = join(dir, "state.json");
    writeFileSync(`${statePath}.lock`, JSON.stringify({ pid: 1, host: "elsewhere", since: "2026-01-01T00:00:00Z", command: "apply" }));
    await expect(acquireLock(statePath, { timeoutMs: 100 })).rejects.toThrow(LockTimeoutError);
    await expect(acquireLock(statePath, { timeoutMs: 0 })).rejects.toThrow(/pid 1 on host elsewhere/);
  });

  it("an unreadable state is a clear error", async () => {
    const dir = tempRoot();
    writeFileSync(join(dir, "state.json"), "{ nope");
    await expect(readState(join(dir, "state.json"))).rejects.toThrow(/is not valid JSON/);
    writeFileSync(join(dir, "state.json"), JSON.stringify({ schema: 99, nodes: {} }));
    await expect(readState(join(dir, "state.json"))).rejects.toThrow(/schema 99/);
  });
});
