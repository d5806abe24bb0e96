import { beforeEach, describe, expect, it } from "vitest";
import type { GraphNode } from "../../compiler/ir.js";
import { planProject } from "../../runtime/apply.js";
import { EventBus } from "../../runtime/events.js";
import { formatPlanLine } from "../../runtime/plan.js";
import { Redactor } from "../../runtime/redact.js";
import { fakeGraph, fakeNode } from "../fakes/fake-platform.js";
import { fakeBackend, run, tempRoot } from "./helpers.js";

const backend = fakeBackend();
beforeEach(() => backend.reset());

async function plan(root: string, nodes: GraphNode[], force = false) {
  const redactor = new Redactor();
  const plans = await planProject(fakeGraph(root, nodes), { bus: new EventBus(redactor), redactor, force });
  return Object.fromEntries(plans.map((p) => [p.node, formatPlanLine(p)]));
}

const file = (rel: string, digest: string) => ({ $path: `/abs/${rel}`, rel, digest, type: "file" });

describe("plan", () => {
  it("says + build, then = up to date after an apply", async () => {
    const root = tempRoot();
    const nodes = [fakeNode("base.fake"), fakeNode("web.fake", { deps: ["base.fake"] })];
    expect(await plan(root, nodes)).toEqual({ "base.fake": "+ base.fake: build", "web.fake": "+ web.fake: build" });
    await run(fakeGraph(root, nodes));
    expect(await plan(root, nodes)).toEqual({ "base.fake": "= base.fake: up to date", "web.fake": "= web.fake: up to date" });
    const again = await run(fakeGraph(root, nodes));
    expect([...again.statuses.values()]).toEqual(["up-to-date", "up-to-date"]);
    expect(backend.images()).toHaveLength(2);
  });

  it("names the option, provisioner, file or upstream that changed", async () => {
    const root = tempRoot();
    const before = [
      fakeNode("base.fake", { keyParts: { config: "c1", "provision[0]": "p1" }, provision: [{ type: "fake-exec", options: { command: "x", script: file("setup.sh", "sha256:aa") }, site: { file: "f", line: 1, column: 1 } }] }),
      fakeNode("web.fake", { deps: ["base.fake"], keyParts: { config: "w1", "deps.base.fake": "k1" } }),
      fakeNode("app.fake", { keyParts: { config: "a1" } }),
    ];
    await run(fakeGraph(root, before));
    const after = [
      fakeNode("base.fake", { keyParts: { config: "c1", "provision[0]": "p2" }, provision: [{ type: "fake-exec", options: { command: "x", script: file("setup.sh", "sha256:bb") }, site: { file: "f", line: 1, column: 1 } }] }),
      fakeNode("web.fake", { deps: ["base.fake"], keyParts: { config: "w1", "deps.base.fake": "k2" } }),
      fakeNode("app.fake", { keyParts: { config: "a2" } }),
    ];
    expect(await plan(root, after)).toEqual({
      "base.fake": "~ base.fake: rebuild (file setup.sh changed; provisioner #1 (fake-exec) changed)",
      "web.fake": "~ web.fake: rebuild (upstream base.fake changed)",
      "app.fake": "~ app.fake: rebuild (platform options changed)",
    });
  });

  it("names the platform options that changed, were added or removed; a path option's file counts as that file", async () => {
    const root = tempRoot();
    const config = (extra: Record<string, unknown>) => ({ memory: 512, disk: file("disk.qcow2", "sha256:d1"), ssh: { username: "root" }, ...extra });
    const before = [
      fakeNode("a.fake", { keyParts: { config: "x1" }, config: config({ cpus: 2 }) }),
      fakeNode("b.fake", { keyParts: { config: "y1" }, config: config({}) }),
    ];
    await run(fakeGraph(root, before));
    const after = [
      // memory changed, cpus removed, format added, ssh's nested field changed.
      fakeNode("a.fake", { keyParts: { config: "x2" }, config: config({ format: "raw", memory: 1024, ssh: { username: "admin" } }) }),
      // Only the disk's content changed: said once, as the file.
      fakeNode("b.fake", { keyParts: { config: "y2" }, config: config({ disk: file("disk.qcow2", "sha256:d2") }) }),
    ];
    expect(await plan(root, after)).toEqual({
      "a.fake": "~ a.fake: rebuild (option cpus was removed; option format was added; option memory changed; option ssh changed)",
      "b.fake": "~ b.fake: rebuild (file disk.qcow2 changed)",
    });
  });

  it("rebuilds a node whose artifact is gone, and its dependents", async () => {
    const root = tempRoot();
    const nodes = [fakeNode("base.fake"), fakeNode("web.fake", { deps: ["base.fake"] })];
    await run(fakeGraph(root, nodes));
    const image = backend.images().find((i) => i.node === "base.fake")!;
    backend.remove(image.id);
    expect(await plan(root, nodes)).toEqual({
      "base.fake": `~ base.fake: rebuild (its artifact ${image.id} no longer exists)`,
      "web.fake": "~ web.fake: rebuild (upstream base.fake will be rebuilt)",
    });
  });

  it("--force rebuilds everything selected", async () => {
    const root = tempRoot();
    const nodes = [fakeNode("a.fake")];
    await run(fakeGraph(root, nodes));
    expect(await plan(root, nodes, true)).toEqual({ "a.fake": "~ a.fake: rebuild (--force)" });
    const r = await run(fakeGraph(root, nodes), { force: true });
    expect(r.statuses.get("a.fake")).toBe("built");
  });

  it("a downstream built from an older upstream artifact rebuilds", async () => {
    const root = tempRoot();
    const nodes = [fakeNode("base.fake"), fakeNode("web.fake", { deps: ["base.fake"] })];
    await run(fakeGraph(root, nodes));
    // base alone is forced: same key, new artifact; web was built from the old one.
    await run(fakeGraph(root, nodes), { force: true, only: ["base"] });
    const lines = await plan(root, nodes);
    expect(lines["base.fake"]).toBe("= base.fake: up to date");
    expect(lines["web.fake"]).toMatch(/^~ web\.fake: rebuild \(upstream base\.fake's artifact changed \(image-\d+ → image-\d+\)\)$/);
  });

  it("--only builds the selection, taking upstream artifacts from the state", async () => {
    const root = tempRoot();
    const nodes = [fakeNode("base.fake"), fakeNode("web.fake", { deps: ["base.fake"] })];
    const missing = await run(fakeGraph(root, nodes), { only: ["web.*"] });
    expect(missing.statuses.get("web.fake")).toBe("failed");
    await run(fakeGraph(root, nodes), { only: ["base"] });
    const r = await run(fakeGraph(root, nodes), { only: ["web.*"] });
    expect([...r.statuses]).toEqual([["web.fake", "built"]]);
    await expect(run(fakeGraph(root, nodes), { only: ["nope"] })).rejects.toThrow(/--only nope matches no node/);
  });

  it("--except leaves nodes out", async () => {
    const root = tempRoot();
    const r = await run(fakeGraph(root, [fakeNode("a.fake"), fakeNode("b.fake")]), { except: ["b"] });
    expect([...r.statuses.keys()]).toEqual(["a.fake"]);
  });

});
