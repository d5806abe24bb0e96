/** A ProvisionerContext for provisioner tests, with a log that records everything. */
import type { GraphNode } from "../../compiler/ir.js";
import type { BuildLog, Communicator, ProvisionerContext } from "../../runtime/types.js";

/** What a test log recorded. */
export interface RecordedLog extends BuildLog {
  readonly lines: string[];
  readonly stdout: string[];
  readonly stderr: string[];
  text(): string;
}

/** A BuildLog that keeps everything in memory. */
export function recordingLog(): RecordedLog {
  const lines: string[] = [];
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    lines,
    stdout,
    stderr,
    log: (level, message) => lines.push(`${level}: ${message}`),
    output: (stream, chunk) => (stream === "stdout" ? stdout : stderr).push(chunk),
    track: () => {},
    untrack: () => {},
    text: () => [...lines, stdout.join(""), stderr.join("")].join("\n"),
  };
}

/** A minimal graph node for provisioner contexts. */
export function testNode(id = "web.null"): GraphNode {
  const [image, platform] = id.split(".") as [string, string];
  return {
    id,
    image,
    platform,
    type: platform,
    driver: { module: `imgc/drivers/${platform}`, url: "", version: 1 },
    source: { kind: "base" },
    config: {},
    provision: [],
    post: [],
    deps: [],
    key: "sha256:test",
    keyParts: {},
    meta: { site: { file: "<unknown>", line: 0, column: 0 } },
  } as GraphNode;
}

/** A provisioner context over `comm`. */
export function provCtx(comm: Communicator, workDir: string, extra: Partial<ProvisionerContext> = {}): ProvisionerContext & { log: RecordedLog } {
  const log = recordingLog();
  return { comm, log, node: testNode(), facts: { host: "127.0.0.1" }, workDir, projectRoot: workDir, redact: () => {}, interactive: false, ...extra } as ProvisionerContext & { log: RecordedLog };
}
