/**
 * `imgc state list|show|rm`: read the state (`list`: node, artifact, build time; `show NODE`:
 * the full record) and forget nodes without deleting their artifacts (`rm NODE…`, under the lock).
 */
import { dirname, join, resolve } from "node:path";
import { parseDuration } from "../../lang/duration.js";
import type { ImgcCommand } from "../command.js";
import { UsageError } from "../command.js";
import { EXIT } from "../../runtime/exit-codes.js";
import { acquireLock, LockTimeoutError } from "../../runtime/state/lock.js";
import { readState, writeState } from "../../runtime/state/store.js";
import { stateFlags, type StateFlags } from "../runtime-session.js";

interface StateArgs extends StateFlags {
  readonly action: "list" | "show" | "rm";
  readonly nodes: readonly string[];
  readonly definitions?: string;
}

const stateCommand: ImgcCommand<StateArgs> = {
  command: "state <action> [nodes..]",
  describe: "Inspect the state: list, show NODE, or rm NODE… (forget without deleting)",
  builder: (y) =>
    stateFlags(y)
      .positional("action", { choices: ["list", "show", "rm"] as const, describe: "list | show | rm" })
      .positional("nodes", { type: "string", array: true, default: [], describe: "Node ids (globs for rm)" })
      .option("definitions", { alias: "f", type: "string", default: "images.ts", describe: "The definitions file whose .imgc/state.json to use" }),
  async run(args, cli) {
    const root = dirname(resolve(cli.cwd, args.definitions ?? "images.ts"));
    const statePath = args.state ?? join(root, ".imgc", "state.json");
    if (args.action === "list") {
      const state = await readState(statePath);
      const rows = Object.entries(state.nodes).map(([id, n]) => ({ node: id, platform: n.artifact.platform, artifact: n.artifact.id, builtAt: n.builtAt }));
      if (args.json) cli.json({ ok: true, serial: state.serial, nodes: rows });
      else if (rows.length === 0) cli.out(`the state ${statePath} records no artifacts`);
      else {
        const w = Math.max(...rows.map((r) => r.node.length));
        for (const r of rows) cli.out(`${r.node.padEnd(w)}  ${r.artifact}  ${r.builtAt}`);
      }
      return EXIT.OK;
    }
    if (args.nodes.length === 0) throw new UsageError(`imgc state ${args.action} needs at least one node id`);
    if (args.action === "show") {
      const state = await readState(statePath);
      const missing = args.nodes.filter((n) => !state.nodes[n]);
      if (missing.length) throw new UsageError(`the state records no ${missing.join(", ")}; known: ${Object.keys(state.nodes).join(", ") || "(none)"}`);
      const picked = Object.fromEntries(args.nodes.map((n) => [n, state.nodes[n]]));
      cli.json(args.nodes.length === 1 ? picked[args.nodes[0]!] : picked);
      return EXIT.OK;
    }
    let lock;
    try {
      lock = await acquireLock(statePath, { timeoutMs: parseDuration(args.lockTimeout ?? "0s"), command: "state rm" });
    } catch (error) {
      if (error instanceof LockTimeoutError) {
        cli.err(`error: ${error.message}`);
        return EXIT.LOCKED;
      }
      throw error;
    }
    try {
      const state = await readState(statePath);
      const { selectNodes } = await import("../../runtime/select.js");
      const entries = Object.keys(state.nodes).map((id) => ({ id, image: id.split(".")[0]! }));
      let removed;
      try {
        removed = await selectNodes(entries, { only: args.nodes });
      } catch (error) {
        throw new UsageError((error as Error).message.replace("--only ", ""));
      }
      for (const { id } of removed) delete state.nodes[id];
      await writeState(statePath, state);
      cli.out(`forgot ${removed.map((r) => r.id).join(", ")} (their artifacts were not deleted)`);
      return EXIT.OK;
    } finally {
      await lock.release();
    }
  },
};
export default stateCommand;
