/**
 * `imgc apply [file]`: build what changed. Compiles the definitions (with --var, --only…), then
 * hands the graph to the runtime (runtime/apply.ts) with a renderer: the live TTY view, plain
 * prefixed lines (not a TTY, or CI), or JSON lines (`--json`). Ctrl-C: see runtime/signals.ts.
 */
import { parseDuration } from "../../lang/duration.js";
import type { ImgcCommand } from "../command.js";
import { UsageError } from "../command.js";
import { runtimeSession, stateFlags, type StateFlags } from "../runtime-session.js";

/** apply's own flags. */
interface ApplyArgs extends StateFlags {
  readonly parallelism: number;
  readonly force?: boolean;
  readonly onError: "cleanup" | "abort" | "ask" | "run-cleanup-provisioner";
}

const applyCommand: ImgcCommand<ApplyArgs> = {
  command: "apply [file]",
  describe: "Build every image that changed (up-to-date ones are skipped) and record the artifacts",
  builder: (y) =>
    stateFlags(y)
      .option("parallelism", { type: "number", default: 4, describe: "Most nodes building at once" })
      .option("force", { type: "boolean", describe: "Rebuild even what is up to date" })
      .option("on-error", {
        choices: ["cleanup", "abort", "ask", "run-cleanup-provisioner"] as const,
        default: "cleanup" as const,
        describe: "On a failed step: clean up, keep resources for debugging (abort), ask, or run the errorCleanup provisioner first",
      }),
  async run(args, cli) {
    if (!Number.isInteger(args.parallelism) || args.parallelism < 1) throw new UsageError(`--parallelism ${args.parallelism} must be a whole number of at least 1`);
    const lockTimeoutMs = parseDuration(args.lockTimeout ?? "0s");
    const compiled = await cli.compile(args);
    compiled.warnings.forEach((w) => cli.err(`warning: ${w}`));
    const session = runtimeSession(args, compiled);
    try {
      const { apply } = await import("../../runtime/apply.js");
      const result = await apply(compiled.graph, {
        ...(args.state ? { statePath: args.state } : {}),
        parallelism: args.parallelism,
        force: args.force ?? false,
        onError: args.onError,
        lockTimeoutMs,
        signal: session.signal,
        bus: session.bus,
        redactor: session.redactor,
        live: session.live,
        secrets: session.secrets,
        ...(args.onError === "ask" ? { ask: session.ask } : {}),
      });
      return result.exitCode;
    } catch (error) {
      const { runtimeFailure } = await import("../runtime-session.js");
      return runtimeFailure(error, session, cli);
    } finally {
      session.close();
    }
  },
};
export default applyCommand;
