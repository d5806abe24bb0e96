/**
 * `imgc destroy [file]`: deletes the artifacts recorded in the state (all, or those matching
 * `--only`/`--except`, without their dependencies) through their drivers, and forgets them.
 */
import { dirname, join, resolve } from "node:path";
import { parseDuration } from "../../lang/duration.js";
import type { ImgcCommand } from "../command.js";
import { listFlag } from "../command.js";
import { runtimeSession, stateFlags, type StateFlags } from "../runtime-session.js";
import { EXIT } from "../../runtime/exit-codes.js";
import { ConfirmationNeededError, confirmDestroy } from "../confirm-destroy.js";

/** Flags of `imgc destroy`. */
interface DestroyFlags extends StateFlags {
  /** Delete without asking (required without a terminal). */
  readonly yes?: boolean;
}

const destroyCommand: ImgcCommand<DestroyFlags> = {
  command: "destroy [file]",
  describe: "Delete the artifacts recorded in the state (or those matching --only/--except) and forget them; asks first unless --yes",
  builder: (y) =>
    stateFlags(y).option("yes", {
      alias: ["y", "auto-approve"],
      type: "boolean",
      describe: "Delete without asking; needed when there is no terminal to ask on (scripts, CI, --json)",
    }),
  async run(args, cli) {
    const root = dirname(resolve(cli.cwd, args.file));
    // The current definitions give fresher driver locations; destroy works without them too.
    let nodes;
    try {
      const compiled = await cli.compile({ ...args, only: [], except: [] });
      nodes = new Map(compiled.graph.nodes.map((n) => [n.id, n]));
    } catch {
      nodes = undefined;
    }
    const session = runtimeSession(args);
    try {
      const { destroy } = await import("../../runtime/destroy.js");
      const result = await destroy({
        statePath: args.state ?? join(root, ".imgc", "state.json"),
        projectRoot: root,
        only: listFlag(args.only),
        except: listFlag(args.except),
        bus: session.bus,
        redactor: session.redactor,
        lockTimeoutMs: parseDuration(args.lockTimeout ?? "0s"),
        signal: session.signal,
        ...(nodes ? { nodes } : {}),
        ...(args.yes ? {} : { confirm: (targets) => confirmDestroy(targets, args.json === true) }),
      });
      if (!args.json && result.exitCode !== EXIT.DECLINED) cli.err(`destroyed ${result.destroyed.length}${result.failed.length ? `, ${result.failed.length} failed` : ""}`);
      return result.exitCode;
    } catch (error) {
      if (error instanceof ConfirmationNeededError) {
        cli.err(`error: ${error.message}`);
        return EXIT.USAGE;
      }
      const { runtimeFailure } = await import("../runtime-session.js");
      return runtimeFailure(error, session, cli);
    } finally {
      session.close();
    }
  },
};
export default destroyCommand;
