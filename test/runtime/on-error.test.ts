import { beforeEach, describe, expect, it } from "vitest";
import { EXIT } from "../../runtime/exit-codes.js";
import { execStep, fakeGraph, fakeNode } from "../fakes/fake-platform.js";
import { fakeBackend, ofType, run, tempRoot } from "./helpers.js";

const backend = fakeBackend();
beforeEach(() => backend.reset());

const node = () => fakeNode("a.fake", { provision: [execStep("echo hi")], errorCleanup: execStep("echo collecting logs") });

describe("--on-error", () => {
  it("cleanup (default): everything is removed", async () => {
    backend.failures.set("snapshot", new Error("quota"));
    const r = await run(fakeGraph(tempRoot(), [node()]));
    expect(r.statuses.get("a.fake")).toBe("failed");
    expect(backend.live()).toEqual([]);
    expect(backend.commands.get("a.fake")).toEqual(["echo hi"]);
  });

  it("abort: keeps the resources and lists them", async () => {
    backend.failures.set("snapshot", new Error("quota"));
    const r = await run(fakeGraph(tempRoot(), [node()]), { onError: "abort" });
    expect(r.exitCode).toBe(EXIT.BUILD_FAILED);
    expect(r.statuses.get("a.fake")).toBe("kept");
    const kinds = backend.live().map((x) => x.kind).sort();
    expect(kinds).toEqual(["disk", "machine"]);
    const end = ofType(r.events, "node.end")[0]!;
    expect(end.left?.map((x) => x.kind).sort()).toEqual(["disk", "machine"]);
    expect(ofType(r.events, "apply.end")[0]!.left).toHaveLength(2);
    expect(backend.log.some((l) => l.startsWith("cleanup"))).toBe(false);
  });

  it("ask → retry: the failed step runs again and the build succeeds", async () => {
    backend.failures.set("snapshot", new Error("flaky"));
    const asked: string[] = [];
    const r = await run(fakeGraph(tempRoot(), [node()]), {
      onError: "ask",
      ask: async (n, step, error) => {
        asked.push(`${n} ${step} ${error.message}`);
        backend.failures.clear();
        return "retry";
      },
    });
    expect(asked).toEqual(["a.fake snapshot flaky"]);
    expect(r.statuses.get("a.fake")).toBe("built");
    expect(backend.live()).toEqual([]);
    expect(backend.images()).toHaveLength(1);
    expect(backend.log.filter((l) => l === "run snapshot a.fake")).toHaveLength(2);
  });

  it("ask → abort keeps, ask → cleanup removes", async () => {
    backend.failures.set("boot", new Error("nope"));
    const kept = await run(fakeGraph(tempRoot(), [node()]), { onError: "ask", ask: async () => "abort" });
    expect(kept.statuses.get("a.fake")).toBe("kept");
    expect(backend.live().length).toBeGreaterThan(0);
    backend.reset();
    backend.failures.set("boot", new Error("nope"));
    const cleaned = await run(fakeGraph(tempRoot(), [node()]), { onError: "ask", ask: async () => "cleanup" });
    expect(cleaned.statuses.get("a.fake")).toBe("failed");
    expect(backend.live()).toEqual([]);
  });

  it("run-cleanup-provisioner: the errorCleanup provisioner runs before the cleanups", async () => {
    backend.failures.set("snapshot", new Error("quota"));
    const r = await run(fakeGraph(tempRoot(), [node()]), { onError: "run-cleanup-provisioner" });
    expect(r.statuses.get("a.fake")).toBe("failed");
    expect(backend.commands.get("a.fake")).toEqual(["echo hi", "echo collecting logs"]);
    const firstCleanup = backend.log.findIndex((l) => l.startsWith("cleanup"));
    expect(firstCleanup).toBeGreaterThan(0);
    expect(backend.live()).toEqual([]);
  });

  it("the errorCleanup provisioner does not run on success or with the default mode", async () => {
    const ok = await run(fakeGraph(tempRoot(), [node()]), { onError: "run-cleanup-provisioner" });
    expect(ok.statuses.get("a.fake")).toBe("built");
    expect(backend.commands.get("a.fake")).toEqual(["echo hi"]);
  });
});
