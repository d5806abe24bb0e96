/**
 * Exhaustive failure paths on the stateful fake: for every backend call a build makes, fail it
 * (before and after the daemon did the work), and abort at every step; each time nothing a
 * build made stays alive, and the cleanups ran in reverse.
 */
import { describe, expect, it } from "vitest";
import { createDockerDriver } from "../../../runtime/platforms/docker/driver.js";
import type { DockerOptions } from "../../../runtime/platforms/docker/factory.js";
import type { Communicator } from "../../../runtime/types.js";
import { FakeDockerBackend, type FakeMethod } from "../../fakes/docker-backend.js";
import { build, testEnv, testNode } from "./harness.js";

const MODES: Record<string, DockerOptions> = {
  commit: { image: "base:1", commit: true, changes: { labels: { a: "b" } } },
  export: { image: "base:1", exportPath: "out.tar" },
  discard: { image: "base:1", discard: true },
  pull: { image: "registry.test/base:1", pull: true, commit: true },
};

async function provision(comm: Communicator, signal: AbortSignal): Promise<void> {
  await comm.upload("/etc/app.conf", Buffer.from("x=1"), {}, signal);
  const r = await comm.exec({ command: "cat /etc/app.conf" }, signal);
  if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}`);
}

function fresh(): FakeDockerBackend {
  const fake = new FakeDockerBackend();
  fake.addImage("base:1", { cmd: ["/bin/sh"] });
  fake.registry.set("registry.test/base:1", [...fake.images.values()][0]!);
  return fake;
}

/** The calls a successful build of `mode` makes, in order (method names). */
async function callsOf(mode: string): Promise<FakeMethod[]> {
  const fake = fresh();
  const { result } = await build(createDockerDriver(() => fake), testEnv(testNode(`probe.docker`, MODES[mode]!)), provision);
  expect(result.outcome).toBe("ok");
  return fake.events.map((e) => e.split(" ")[0] as FakeMethod);
}

describe("docker driver on the fake: every failure leaves nothing", () => {
  for (const mode of Object.keys(MODES)) {
    it(`${mode}: a fault at each backend call (before and after the work)`, async () => {
      const calls = await callsOf(mode);
      expect(calls).toContain("createContainer");
      const seen = new Map<FakeMethod, number>();
      for (const method of calls) {
        const n = (seen.get(method) ?? 0) + 1;
        seen.set(method, n);
        if (method === "removeContainer") continue; // the cleanup itself: tested below
        for (const after of [false, true]) {
          const fake = fresh();
          const initial = new Set(fake.images.keys());
          if (mode === "pull") initial.add([...fake.images.keys()][0]!);
          fake.failOn(method, { call: n, after });
          const env = testEnv(testNode(`f.docker`, MODES[mode]!));
          const { result, trace } = await build(createDockerDriver(() => fake), env, provision);
          const label = `${mode}: ${method} #${n}${after ? " (after the work)" : ""}`;
          expect(result.outcome, label).toBe("failed");
          // A pulled source image is legitimately kept (as docker keeps pulled images).
          const live = fake.live(initial).filter((l) => !(mode === "pull" && l.startsWith("image") && fake.images.get(l.slice(6))?.repoTags.includes("registry.test/base:1")));
          expect(live, label).toEqual([]);
          expect(env.tracked.size, label).toBe(0);
          const ran = trace.filter((t) => !t.startsWith("cleanup "));
          const cleaned = trace.filter((t) => t.startsWith("cleanup ")).map((t) => t.slice(8));
          expect(cleaned, label).toEqual(ran.filter((s) => ["run container", "commit", "export"].includes(s)).reverse());
        }
      }
    });

    it(`${mode}: an abort at each step leaves nothing`, async () => {
      const stepCount = 5;
      for (let at = 0; at < stepCount; at++) {
        const fake = fresh();
        const initial = new Set(fake.images.keys());
        const ac = new AbortController();
        const driver = createDockerDriver(() => fake);
        const env = testEnv(testNode(`a.docker`, MODES[mode]!));
        let step = 0;
        // Abort when the `at`-th backend call of the build starts.
        const original = fake.events.push.bind(fake.events);
        fake.events.push = (...items: string[]) => {
          if (step++ === at) ac.abort();
          return original(...items);
        };
        const { result } = await build(driver, env, provision, ac.signal);
        expect(result.outcome, `${mode} abort at call ${at}`).not.toBe("ok");
        fake.events.push = original;
        const live = fake.live(initial).filter((l) => !(mode === "pull" && l.startsWith("image") && fake.images.get(l.slice(6))?.repoTags.includes("registry.test/base:1")));
        expect(live, `${mode} abort at call ${at}`).toEqual([]);
      }
    });
  }

  it("a failing container removal is reported, not swallowed", async () => {
    const fake = fresh();
    fake.failOn("removeContainer");
    const { result } = await build(createDockerDriver(() => fake), testEnv(testNode(`r.docker`, MODES.commit!)), provision);
    expect(result.cleanupErrors.map((c) => c.step)).toEqual(["run container"]);
    expect(result.cleanupErrors[0]!.error.message).toContain("injected fault in removeContainer");
  });

  it("a create whose answer was lost still has its container removed, by name", async () => {
    const fake = fresh();
    fake.failOn("createContainer", { after: true });
    const { result } = await build(createDockerDriver(() => fake), testEnv(testNode(`lost.docker`, MODES.commit!)), provision);
    expect(result.outcome).toBe("failed");
    expect(fake.containers.size).toBe(0);
    expect(fake.events.at(-1)).toMatch(/^removeContainer imgc-lost\.docker-/);
  });
});
