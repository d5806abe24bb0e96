/**
 * The confirmation `imgc destroy` asks for, as Terraform's does: the list of what will be
 * deleted, then a prompt that takes only "yes". Without a terminal to ask on (stdin is not a
 * TTY, CI is set, or --json), nothing is deleted unless `--yes` was given: a script must say so.
 */
import type { DestroyTarget } from "../runtime/destroy.js";

/** Raised when a confirmation is needed and cannot be asked for; the CLI exits with USAGE. */
export class ConfirmationNeededError extends Error {
  override name = "ConfirmationNeededError";
}

/** Asks on the terminal whether to delete `targets`; true only for the answer "yes". */
export async function confirmDestroy(targets: readonly DestroyTarget[], json: boolean): Promise<boolean> {
  const what = `${targets.length} artifact${targets.length === 1 ? "" : "s"}`;
  if (!process.stdin.isTTY || process.env.CI || json) {
    throw new ConfirmationNeededError(
      `imgc destroy would delete ${what} (${targets.map((t) => t.node).join(", ")}); pass --yes to confirm (there is no terminal to ask on)`,
    );
  }
  const lines = targets.map((t) => `  - ${t.node} (${t.platform}): ${t.artifactId}`);
  process.stderr.write(`imgc destroy will delete:\n${lines.join("\n")}\n`);
  const { createInterface } = await import("node:readline/promises");
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`Delete these ${what}? Only 'yes' will be accepted: `);
    return answer.trim() === "yes";
  } finally {
    rl.close();
  }
}
