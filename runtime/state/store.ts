/**
 * The state: what each node built last (its cache key, artifact, post-processor outputs), in
 * `.imgc/state.json` beside the definitions (or `--state PATH`). Schema-versioned, written
 * atomically, read leniently only for the schema it knows.
 */
import { mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Json } from "../../lang/values.js";
import type { ArtifactRecord } from "../types.js";
import { writeFileAtomic } from "./atomic-write.js";

/** The state schema this runtime reads and writes. */
export const STATE_SCHEMA = 1;

/** The recorded output of one post-processor of a node. */
export interface PostRecord {
  /** The post-processor type. */
  readonly type: string;
  /** sha256 of the node key and the post-processor's options: unchanged → not run again. */
  readonly key: string;
  /** The artifact it produced (its input when it produces none). */
  readonly artifact: ArtifactRecord;
  /** True when it deleted its input artifact's files (`keepInputArtifact: false`). */
  readonly consumedInput?: boolean;
}

/** What the state records for one node. */
export interface NodeState {
  /** The cache key it was built with. */
  readonly key: string;
  /** Its key parts, so plan can name what changed. */
  readonly keyParts: Readonly<Record<string, string>>;
  /** Digests of the local files it used, by project-relative path (plan names a changed file). */
  readonly files?: Readonly<Record<string, string>>;
  /** A digest of each platform option, by name (plan names a changed option). */
  readonly options?: Readonly<Record<string, string>>;
  /** The artifact the build made. */
  readonly artifact: ArtifactRecord;
  /** The driver that made it, so `imgc destroy` can delete it even after the node left the definitions. */
  readonly driver?: { readonly module: string; readonly url: string; readonly version: number; readonly type: string };
  /** ISO time the build ended. */
  readonly builtAt: string;
  /** The apply that built it. */
  readonly runId: string;
  /** Upstream node → the artifact id this build used (a replaced upstream artifact → rebuild). */
  readonly inputs: Readonly<Record<string, string>>;
  /** The build facts it was built with (timestamp…), for reference. */
  readonly facts?: Readonly<Record<string, Json>>;
  /** Post-processor outputs, in chain order. */
  readonly post?: readonly PostRecord[];
}

/** The whole state file. */
export interface StateFile {
  readonly schema: typeof STATE_SCHEMA;
  /** Incremented on every write. */
  serial: number;
  /** Nodes by id. */
  nodes: Record<string, NodeState>;
}

/** The state file cannot be read or written; the message says which file and what to do. */
export class StateError extends Error {
  readonly code = "STATE";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StateError";
  }
}

/** An empty state. */
export function emptyState(): StateFile {
  return { schema: STATE_SCHEMA, serial: 0, nodes: {} };
}

/** Reads the state; a missing file is an empty state. A file of another schema is an error. */
export async function readState(path: string): Promise<StateFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return emptyState();
    throw new StateError(`cannot read the state file ${path}: ${(error as Error).message}`, { cause: error });
  }
  let parsed: StateFile;
  try {
    parsed = JSON.parse(text) as StateFile;
  } catch (error) {
    throw new StateError(`the state file ${path} is not valid JSON (${(error as Error).message}); restore it from a backup or remove it to rebuild everything`);
  }
  if (parsed?.schema !== STATE_SCHEMA) {
    throw new StateError(`the state file ${path} has schema ${JSON.stringify(parsed?.schema)}, this imgc reads schema ${STATE_SCHEMA}; use a matching imgc`);
  }
  parsed.nodes ??= {};
  return parsed;
}

/** Writes the state atomically, bumping its serial. */
export async function writeState(path: string, state: StateFile): Promise<void> {
  state.serial += 1;
  await writeStateFile(path, state);
}

async function writeStateFile(path: string, state: StateFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const sorted: Record<string, NodeState> = {};
  for (const id of Object.keys(state.nodes).sort()) sorted[id] = state.nodes[id]!;
  await writeFileAtomic(path, JSON.stringify({ ...state, nodes: sorted }, null, 2) + "\n");
}

/**
 * Serialises state writes of one apply: nodes finish concurrently, and each write must carry
 * every earlier update. `sanitize` (redaction) sees a copy, never the live state.
 */
export class StateWriter {
  private chain: Promise<void> = Promise.resolve();
  constructor(
    readonly path: string,
    readonly state: StateFile,
    private readonly sanitize: (s: StateFile) => StateFile = (s) => s,
  ) {}

  /** Applies `update` and queues a write; resolves when it is on disk. */
  update(update: (state: StateFile) => void): Promise<void> {
    update(this.state);
    this.state.serial += 1;
    const snapshot = this.sanitize(structuredClone(this.state));
    const next = this.chain.then(() => writeStateFile(this.path, snapshot));
    this.chain = next.catch(() => {});
    return next;
  }
}
