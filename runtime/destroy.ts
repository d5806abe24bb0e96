/**
 * `imgc destroy`: asks each node's driver to delete the artifact recorded in the state (and the
 * files its post-processors made), then forgets it. Works from the state alone (the driver that
 * made an artifact is recorded with it), so nodes removed from the definitions can be destroyed.
 */
import { unlink } from "node:fs/promises";
import type { GraphNode } from "../compiler/ir.js";
import { loadDriver } from "./drivers.js";
import type { EventBus } from "./events.js";
import { EXIT } from "./exit-codes.js";
import { LiveResources, nodeLog } from "./node-log.js";
import type { Redactor } from "./redact.js";
import { selectNodes, type Selection } from "./select.js";
import { acquireLock, LockTimeoutError } from "./state/lock.js";
import { readState, StateWriter } from "./state/store.js";

/** One artifact a destroy is about to delete. */
export interface DestroyTarget {
  /** The node that built it. */
  readonly node: string;
  /** Its platform type (`qemu`, `amazon`…). */
  readonly platform: string;
  /** The artifact's id (an image id, an AMI list, a disk path). */
  readonly artifactId: string;
}

/** Settings of a destroy. */
export interface DestroyOptions extends Selection {
  readonly statePath: string;
  readonly projectRoot: string;
  readonly bus: EventBus;
  readonly redactor: Redactor;
  readonly lockTimeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Current nodes by id (fresher driver URLs than the state's); optional. */
  readonly nodes?: ReadonlyMap<string, GraphNode>;
  /**
   * Asked with everything about to be deleted, under the state lock and before anything is;
   * false deletes nothing (exit code DECLINED). Not asked when nothing is selected. Absent:
   * no confirmation (`imgc destroy --yes`, the API).
   */
  readonly confirm?: (targets: readonly DestroyTarget[]) => Promise<boolean>;
}

/** Destroys the selected artifacts; returns the exit code. */
export async function destroy(options: DestroyOptions): Promise<{ exitCode: number; destroyed: string[]; failed: string[] }> {
  const { bus } = options;
  const signal = options.signal ?? new AbortController().signal;
  let lock;
  try {
    lock = await acquireLock(options.statePath, { timeoutMs: options.lockTimeoutMs ?? 0, command: "destroy", signal });
  } catch (error) {
    if (error instanceof LockTimeoutError) {
      bus.emit({ type: "log", level: "error", message: error.message });
      return { exitCode: EXIT.LOCKED, destroyed: [], failed: [] };
    }
    throw error;
  }
  const destroyed: string[] = [];
  const failed: string[] = [];
  try {
    const state = await readState(options.statePath);
    const writer = new StateWriter(options.statePath, state, (s) => options.redactor.redactDeep(s));
    const entries = Object.entries(state.nodes).map(([id, rec]) => ({ id, image: id.split(".")[0]!, rec }));
    const selected = dependentsFirst(await selectNodes(entries, options));
    if (selected.length > 0 && options.confirm) {
      const targets = selected.map(({ id, rec }) => ({ node: id, platform: rec.artifact.platform, artifactId: options.redactor.redact(rec.artifact.id) }));
      if (!(await options.confirm(targets))) {
        bus.emit({ type: "log", level: "info", message: "destroy cancelled: nothing was deleted" });
        return { exitCode: EXIT.DECLINED, destroyed, failed };
      }
    }
    // Dependents first: a downstream image may be built on an upstream one (a docker image with
    // child images cannot be removed), so the order comes from the recorded inputs, not the file.
    for (const { id, rec } of selected) {
      if (signal.aborted) break;
      const log = nodeLog(id, bus, new LiveResources());
      const t0 = Date.now();
      try {
        const current = options.nodes?.get(id);
        const driverRef = current ? { ...current.driver, type: current.type } : rec.driver;
        if (!driverRef) throw new Error(`the state does not say which driver made ${id}; it was written by an older imgc`);
        const driver = await loadDriver({ id, type: driverRef.type, driver: driverRef });
        for (const post of [...(rec.post ?? [])].reverse()) {
          if (post.artifact.id === rec.artifact.id) continue;
          await Promise.all(post.artifact.files.map((f) => unlink(f).catch(() => {})));
        }
        if (driver.destroy) await driver.destroy(rec.artifact, { projectRoot: options.projectRoot, log }, signal);
        else log.log("warn", `the ${driverRef.type} platform cannot delete artifacts; ${rec.artifact.id} is only forgotten`);
        await writer.update((s) => void delete s.nodes[id]);
        destroyed.push(id);
        bus.emit({ type: "node.end", node: id, status: "built", durationMs: Date.now() - t0, artifactId: `destroyed ${rec.artifact.id}` });
      } catch (error) {
        failed.push(id);
        bus.emit({ type: "node.end", node: id, status: "failed", durationMs: Date.now() - t0, error: (error as Error).message });
      }
    }
  } finally {
    await lock.release();
  }
  return { exitCode: signal.aborted ? EXIT.INTERRUPTED : failed.length ? EXIT.BUILD_FAILED : EXIT.OK, destroyed, failed };
}

/**
 * Orders state entries so every node comes before the nodes it was built from (its recorded
 * `inputs`), whatever order the state file lists them in; ties keep the file's order.
 */
export function dependentsFirst<E extends { id: string; rec: { inputs?: Readonly<Record<string, string>> } }>(entries: readonly E[]): E[] {
  const byId = new Map(entries.map((e) => [e.id, e]));
  const done = new Set<string>();
  const upstreamFirst: E[] = [];
  const visit = (entry: E, path: Set<string>): void => {
    if (done.has(entry.id) || path.has(entry.id)) return;
    path.add(entry.id);
    for (const upstream of Object.keys(entry.rec.inputs ?? {})) {
      const dep = byId.get(upstream);
      if (dep) visit(dep, path);
    }
    path.delete(entry.id);
    done.add(entry.id);
    upstreamFirst.push(entry);
  };
  for (const entry of entries) visit(entry, new Set());
  return upstreamFirst.reverse();
}
