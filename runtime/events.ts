/**
 * Every runtime action is a typed event. The apply emits them on an `EventBus`; renderers (TTY,
 * plain lines, JSON lines) and the per-node log files subscribe. Every event is redacted before
 * any subscriber sees it. The JSON form (`--json`) is these objects, one per line; the schema is
 * documented in docs/runtime.md and versioned by `EVENT_SCHEMA`.
 */
import type { LiveResource, LogLevel } from "./types.js";
import type { Redactor } from "./redact.js";

/** Bumped when an event changes incompatibly. */
export const EVENT_SCHEMA = 1;

/** What plan decided for a node. */
export type PlanStatus = "build" | "up-to-date" | "rebuild";

/** How a node ended. */
export type NodeStatus = "built" | "up-to-date" | "failed" | "cancelled" | "skipped" | "kept";

/** Fields every event carries. */
interface Base {
  /** ISO time the event was emitted. */
  readonly time: string;
}

/** The apply started. */
export interface ApplyStartEvent extends Base {
  readonly type: "apply.start";
  readonly runId: string;
  /** Selected node ids, in topological order. */
  readonly nodes: readonly string[];
  readonly parallelism: number;
  readonly statePath: string;
}
/** Plan's decision for one node. */
export interface PlanEvent extends Base {
  readonly type: "plan";
  readonly node: string;
  readonly status: PlanStatus;
  /** Why it (re)builds: "provision[1] (shell) changed", "upstream base.docker will be rebuilt"… */
  readonly reasons: readonly string[];
}
/** A node started building. */
export interface NodeStartEvent extends Base {
  readonly type: "node.start";
  readonly node: string;
}
/** A step of a node started. */
export interface StepStartEvent extends Base {
  readonly type: "step.start";
  readonly node: string;
  readonly step: string;
}
/** A step of a node ended. */
export interface StepEndEvent extends Base {
  readonly type: "step.end";
  readonly node: string;
  readonly step: string;
  readonly ok: boolean;
  readonly durationMs: number;
  readonly error?: string;
}
/** A cleanup of a step ran. */
export interface CleanupEvent extends Base {
  readonly type: "cleanup";
  readonly node: string;
  readonly step: string;
  readonly outcome: "ok" | "failed" | "cancelled";
  /** Set when the cleanup itself failed (it is reported, never swallowed). */
  readonly error?: string;
}
/** A log line of a node (or of the apply when `node` is absent). */
export interface LogEvent extends Base {
  readonly type: "log";
  readonly node?: string;
  readonly level: LogLevel;
  readonly message: string;
}
/** One line of output of a command in the machine. */
export interface OutputEvent extends Base {
  readonly type: "output";
  readonly node: string;
  readonly stream: "stdout" | "stderr";
  readonly line: string;
}
/** A post-processor ran (or was skipped because its output is up to date). */
export interface PostEvent extends Base {
  readonly type: "post";
  readonly node: string;
  readonly post: string;
  readonly index: number;
  readonly status: "done" | "up-to-date" | "failed";
  readonly artifactId?: string;
  readonly error?: string;
}
/** A node ended. */
export interface NodeEndEvent extends Base {
  readonly type: "node.end";
  readonly node: string;
  readonly status: NodeStatus;
  readonly durationMs: number;
  /** The artifact id (built or cached). */
  readonly artifactId?: string;
  /** Why it failed, was skipped or cancelled. */
  readonly error?: string;
  /** Resources left alive (`--on-error=abort`, or a cleanup that failed). */
  readonly left?: readonly LiveResource[];
}
/** A signal arrived. */
export interface SignalEvent extends Base {
  readonly type: "signal";
  readonly signal: string;
  /** 1: cancelling; 2: cleanup still running; 3: exiting at once. */
  readonly count: number;
  readonly message: string;
}
/** The apply ended. */
export interface ApplyEndEvent extends Base {
  readonly type: "apply.end";
  readonly ok: boolean;
  readonly exitCode: number;
  readonly durationMs: number;
  readonly built: readonly string[];
  readonly upToDate: readonly string[];
  readonly failed: readonly string[];
  readonly skipped: readonly string[];
  readonly cancelled: readonly string[];
  /** Node id → artifact id, of every built or cached node. */
  readonly artifacts: Readonly<Record<string, string>>;
  /** Resources that may be left alive. */
  readonly left: readonly (LiveResource & { readonly node: string })[];
}

/** Every runtime event. */
export type RuntimeEvent =
  | ApplyStartEvent
  | PlanEvent
  | NodeStartEvent
  | StepStartEvent
  | StepEndEvent
  | CleanupEvent
  | LogEvent
  | OutputEvent
  | PostEvent
  | NodeEndEvent
  | SignalEvent
  | ApplyEndEvent;

/** An event before its time is stamped. */
export type EventInput = RuntimeEvent extends infer E ? (E extends RuntimeEvent ? Omit<E, "time"> : never) : never;

/** A subscriber. */
export type Listener = (event: RuntimeEvent) => void;

/** Fans events out to subscribers, redacted. */
export class EventBus {
  private readonly listeners: Listener[] = [];
  constructor(private readonly redactor: Redactor) {}

  /** Adds a subscriber; returns a function that removes it. */
  on(listener: Listener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Stamps, redacts and delivers an event. A throwing subscriber never breaks the build. */
  emit(input: EventInput): void {
    const event = this.redactor.redactDeep({ ...input, time: new Date().toISOString() } as RuntimeEvent);
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // A renderer failing (a closed pipe) must not fail the build it reports on.
      }
    }
  }
}
