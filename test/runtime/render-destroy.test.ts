import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { destroy } from "../../runtime/destroy.js";
import { EventBus } from "../../runtime/events.js";
import { EXIT } from "../../runtime/exit-codes.js";
import { Redactor } from "../../runtime/redact.js";
import { attachTty } from "../../runtime/render/tty.js";
import { readState, StateError } from "../../runtime/state/store.js";
import { execStep, fakeGraph, fakeNode } from "../fakes/fake-platform.js";
import { fakeBackend, run, tempRoot } from "./helpers.js";

const backend = fakeBackend();
beforeEach(() => backend.reset());

describe("tty renderer", () => {
  it("draws a line per node with state and step, then a summary of artifacts and cached nodes", async () => {
    const root = tempRoot();
    await run(fakeGraph(root, [fakeNode("base.fake")]));
    let screen = "";
    const out = { isTTY: true, columns: 120, write: (s: string) => ((screen += s), true) } as unknown as NodeJS.WriteStream;
    const redactor = new Redactor();
    const bus = new EventBus(redactor);
    const off = attachTty(bus, out);
    backend.failures.set("broken.fake:boot", new Error("no capacity"));
    await run(fakeGraph(root, [fakeNode("base.fake"), fakeNode("web.fake", { deps: ["base.fake"], provision: [execStep("echo building web")] }), fakeNode("broken.fake")]), { bus, redactor });
    off();
    const plain = screen.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "");
    expect(plain).toMatch(/= base\.fake +up-to-date/);
    expect(plain).toMatch(/✔ web\.fake +built +\d+s +image-\d+/);
    expect(plain).toMatch(/✘ broken\.fake +failed .*no capacity/);
    expect(plain).toMatch(/Done in \d+s: 1 built, 1 up to date, 1 failed, 0 skipped\./);
    expect(plain).toMatch(/ {2}= base\.fake: image-\d+/);
    expect(plain).toMatch(/ {2}\+ web\.fake: image-\d+/);
  });
});

describe("destroy", () => {
  it("deletes the selected artifacts through their drivers and forgets them", async () => {
    const root = tempRoot();
    await run(fakeGraph(root, [fakeNode("base.fake"), fakeNode("web.fake", { deps: ["base.fake"] }), fakeNode("other.fake")]));
    expect(backend.images()).toHaveLength(3);
    const redactor = new Redactor();
    const statePath = join(root, ".imgc", "state.json");
    const one = await destroy({ statePath, projectRoot: root, bus: new EventBus(redactor), redactor, only: ["web"] });
    expect(one).toEqual({ exitCode: EXIT.OK, destroyed: ["web.fake"], failed: [] });
    expect(backend.images().map((i) => i.node).sort()).toEqual(["base.fake", "other.fake"]);
    expect(Object.keys((await readState(statePath)).nodes)).toEqual(["base.fake", "other.fake"]);
    const rest = await destroy({ statePath, projectRoot: root, bus: new EventBus(redactor), redactor });
    expect(rest.destroyed.sort()).toEqual(["base.fake", "other.fake"]);
    expect(backend.images()).toEqual([]);
    expect((await readState(statePath)).nodes).toEqual({});
  });

  it("reports a driver that cannot be loaded and keeps the record", async () => {
    const root = tempRoot();
    const statePath = join(root, ".imgc", "state.json");
    mkdirSync(join(root, ".imgc"));
    writeFileSync(statePath, JSON.stringify({ schema: 1, serial: 1, nodes: { "x.gone": { key: "k", keyParts: {}, artifact: { node: "x.gone", platform: "gone", id: "i-1", files: [], data: {} }, driver: { module: "imgc-plugin-gone/driver", url: "", version: 1, type: "gone" }, builtAt: "", runId: "", inputs: {} } } }));
    const redactor = new Redactor();
    const events: string[] = [];
    const bus = new EventBus(redactor);
    bus.on((e) => e.type === "node.end" && events.push(e.error ?? ""));
    const r = await destroy({ statePath, projectRoot: root, bus, redactor });
    expect(r.exitCode).toBe(EXIT.BUILD_FAILED);
    expect(events[0]).toContain("cannot find the driver module imgc-plugin-gone/driver of x.gone");
    expect(Object.keys((await readState(statePath)).nodes)).toEqual(["x.gone"]);
  });

  it("an unreadable state is a StateError (exit 6 in the CLI)", async () => {
    const root = tempRoot();
    mkdirSync(join(root, ".imgc"));
    writeFileSync(join(root, ".imgc", "state.json"), "garbage");
    await expect(run(fakeGraph(root, [fakeNode("a.fake")]))).rejects.toBeInstanceOf(StateError);
    // The lock was released on the way out.
    expect(() => readFileSync(join(root, ".imgc", "state.json.lock"))).toThrow();
  });
});
