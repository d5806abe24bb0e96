import { beforeEach, describe, expect, it } from "vitest";
import { EXIT } from "../../runtime/exit-codes.js";
import { execStep, fakeGraph, fakeNode, FAKE_STEPS } from "../fakes/fake-platform.js";
import { fakeBackend, ofType, run, tempRoot } from "./helpers.js";

const backend = fakeBackend();
beforeEach(() => backend.reset());

describe("scheduler", () => {
  it("builds dependencies first and passes the upstream artifact", async () => {
    const graph = fakeGraph(tempRoot(), [
      fakeNode("base.fake", { config: { label: "base" } }),
      fakeNode("web.fake", { deps: ["base.fake"], config: { label: { $ref: { kind: "template", parts: ["on-", { kind: "artifact", image: "base", platform: "fake", field: "id" }] } } } }),
    ]);
    const r = await run(graph, { parallelism: 4 });
    expect(r.exitCode).toBe(EXIT.OK);
    const starts = ofType(r.events, "node.start").map((e) => e.node);
    expect(starts).toEqual(["base.fake", "web.fake"]);
    const ends = ofType(r.events, "node.end");
    expect(ends.find((e) => e.node === "base.fake")!.time <= ofType(r.events, "node.start")[1]!.time).toBe(true);
    const base = backend.images().find((i) => i.node === "base.fake")!;
    const web = backend.images().find((i) => i.node === "web.fake")!;
    expect(web.label).toBe(`on-${base.id}`);
    expect(backend.live()).toEqual([]);
  });

  it("never runs more nodes at once than --parallelism", async () => {
    const nodes = Array.from({ length: 8 }, (_, i) => fakeNode(`n${i}.fake`));
    let release!: () => void;
    backend.gates.set("boot", new Promise<void>((r) => (release = r)));
    const p = run(fakeGraph(tempRoot(), nodes), { parallelism: 3 });
    // Wait until the gate holds as many nodes as may run.
    while (backend.running < 3) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    expect(backend.running).toBe(3);
    release();
    const r = await p;
    expect(r.exitCode).toBe(EXIT.OK);
    expect(backend.maxRunning).toBe(3);
    expect(backend.images()).toHaveLength(8);
  });

  it("honours a driver's maxParallel", async () => {
    const mod = (await import("../fakes/fake-platform.js")).default as { maxParallel?: number };
    (mod as { maxParallel?: number }).maxParallel = 2;
    try {
      const nodes = Array.from({ length: 6 }, (_, i) => fakeNode(`m${i}.fake`));
      let release!: () => void;
      backend.gates.set("boot", new Promise<void>((r) => (release = r)));
      const p = run(fakeGraph(tempRoot(), nodes), { parallelism: 6 });
      while (backend.running < 2) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 50));
      expect(backend.running).toBe(2);
      release();
      const r = await p;
      expect(r.exitCode).toBe(EXIT.OK);
      expect(backend.maxRunning).toBeLessThanOrEqual(2);
      expect(backend.maxRunning).toBe(2);
    } finally {
      delete (mod as { maxParallel?: number }).maxParallel;
    }
  });

  it("isolates a failure: dependents are skipped with why, independent nodes go on", async () => {
    backend.failures.set("base.fake:boot", new Error("boot failed: no capacity"));
    const graph = fakeGraph(tempRoot(), [
      fakeNode("base.fake"),
      fakeNode("other.fake"),
      fakeNode("web.fake", { deps: ["base.fake"] }),
      fakeNode("app.fake", { deps: ["web.fake"] }),
    ]);
    const r = await run(graph, { parallelism: 1 });
    expect(r.exitCode).toBe(EXIT.BUILD_FAILED);
    expect(r.statuses.get("base.fake")).toBe("failed");
    expect(r.statuses.get("other.fake")).toBe("built");
    expect(r.statuses.get("web.fake")).toBe("skipped");
    expect(r.statuses.get("app.fake")).toBe("skipped");
    const ends = ofType(r.events, "node.end");
    expect(ends.find((e) => e.node === "base.fake")!.error).toContain("no capacity");
    expect(ends.find((e) => e.node === "web.fake")!.error).toBe("dependency base.fake failed");
    expect(ends.find((e) => e.node === "app.fake")!.error).toBe("dependency web.fake was not built");
    expect(backend.live()).toEqual([]);
  });

  it("runs cleanups in reverse order on failure, the failed step included", async () => {
    backend.failures.set("snapshot", new Error("snapshot quota"));
    const r = await run(fakeGraph(tempRoot(), [fakeNode("a.fake", { provision: [execStep("echo hi")] })]));
    expect(r.exitCode).toBe(EXIT.BUILD_FAILED);
    const cleanups = backend.log.filter((l) => l.startsWith("cleanup"));
    expect(cleanups).toEqual(["cleanup snapshot a.fake failed", "cleanup boot a.fake failed", "cleanup create-disk a.fake failed"]);
    expect(backend.live()).toEqual([]);
    expect(backend.images()).toEqual([]);
  });

  const failing = [...FAKE_STEPS.filter((s) => s !== "provision"), "exec"];
  for (const at of failing) {
    it(`fail at ${at}: nothing left alive, no artifact`, async () => {
      backend.failures.set(at, new Error(`injected failure at ${at}`));
      const r = await run(fakeGraph(tempRoot(), [fakeNode("a.fake", { provision: [execStep("echo hi")] })]));
      expect(r.exitCode).toBe(EXIT.BUILD_FAILED);
      expect(ofType(r.events, "node.end")[0]!.error).toContain(`injected failure at ${at}`);
      expect(backend.live()).toEqual([]);
      expect(backend.images()).toEqual([]);
    });
    it(`abort at ${at}: cleanups run, nothing left alive, exit 130`, async () => {
      const ac = new AbortController();
      backend.onStart.set(at, () => ac.abort());
      const r = await run(fakeGraph(tempRoot(), [fakeNode("a.fake", { provision: [execStep("echo hi")] }), fakeNode("b.fake", { deps: ["a.fake"] })]), { signal: ac.signal });
      expect(r.exitCode).toBe(EXIT.INTERRUPTED);
      expect(r.statuses.get("a.fake")).toBe("cancelled");
      expect(["cancelled", "skipped"]).toContain(r.statuses.get("b.fake"));
      expect(backend.live()).toEqual([]);
      expect(backend.images()).toEqual([]);
      expect(backend.log.filter((l) => l.startsWith("cleanup")).every((l) => l.endsWith("cancelled"))).toBe(true);
    });
  }
});
