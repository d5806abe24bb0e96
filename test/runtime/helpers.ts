/** Test helpers: run `apply` on a hand-written graph of the fake platform, collecting events. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BuildGraph } from "../../compiler/ir.js";
import { apply, type ApplyOptions, type ApplyResult } from "../../runtime/apply.js";
import { EventBus, type RuntimeEvent } from "../../runtime/events.js";
import { registerProvisioner } from "../../runtime/provisioners/index.js";
import { Redactor } from "../../runtime/redact.js";
import { fakeBackend, fakeExec } from "../fakes/fake-platform.js";

registerProvisioner("fake-exec", fakeExec);

/** A fresh project folder. */
export function tempRoot(prefix = "imgc-rt-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** What `run` returns. */
export interface Run extends ApplyResult {
  readonly events: RuntimeEvent[];
  readonly redactor: Redactor;
}

/** Applies `graph` with the given options, recording every event. */
export async function run(graph: BuildGraph, options: Partial<ApplyOptions> = {}): Promise<Run> {
  const redactor = options.redactor ?? new Redactor();
  const bus = options.bus ?? new EventBus(redactor);
  const events: RuntimeEvent[] = [];
  bus.on((e) => events.push(e));
  const result = await apply(graph, { ...options, bus, redactor });
  return { ...result, events, redactor };
}

/** The events of one type. */
export function ofType<T extends RuntimeEvent["type"]>(events: RuntimeEvent[], type: T): Extract<RuntimeEvent, { type: T }>[] {
  return events.filter((e): e is Extract<RuntimeEvent, { type: T }> => e.type === type);
}

export { fakeBackend };
