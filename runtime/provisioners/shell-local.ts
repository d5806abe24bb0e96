/**
 * The `shell-local` provisioner (Packer's shell-local): runs commands on the machine that runs
 * imgc. Inline lines become a script run by `/bin/sh -e`; env values go into the process
 * environment (never a command line), beside IMGC_BUILD_NAME and the machine's address.
 */
import { randomBytes } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ProvisionerImpl } from "../types.js";
import { LocalCommunicator } from "../communicators/local.js";
import { shQuote } from "../communicators/shell-quote.js";
import { durationMs, envOf, exitCodesOf, localPathOf, outputTo, withTimeout } from "./common.js";

/** shell-local options as the runtime receives them (resolved). */
export interface ShellLocalRuntimeOptions {
  readonly inline?: readonly string[];
  readonly script?: unknown;
  readonly env?: Readonly<Record<string, string>>;
  readonly timeout?: string | number;
  readonly validExitCodes?: readonly number[];
}

/** The shell-local provisioner. */
export const shellLocalProvisioner: ProvisionerImpl<ShellLocalRuntimeOptions> = {
  type: "shell-local",
  async run(o, ctx, signal) {
    if ((o.inline === undefined) === (o.script === undefined)) throw new Error("shellLocal needs exactly one of inline or script");
    // Runs here whatever machine the build targets.
    const comm = ctx.comm.kind === "local" ? ctx.comm : new LocalCommunicator();
    const env: Record<string, string> = { IMGC_BUILD_NAME: ctx.node.id, IMGC_IMAGE: ctx.node.image, IMGC_BUILDER_TYPE: ctx.node.type };
    if (ctx.facts.host) env.IMGC_HOST = ctx.facts.host;
    if (ctx.facts.port) env.IMGC_PORT = String(ctx.facts.port);
    if (ctx.facts.user) env.IMGC_USER = ctx.facts.user;
    Object.assign(env, envOf(o.env, "env"));
    let scriptPath: string;
    let temp: string | undefined;
    if (o.inline) {
      temp = join(ctx.workDir, `imgc-local-${randomBytes(6).toString("hex")}.sh`);
      await writeFile(temp, o.inline.join("\n") + "\n", { mode: 0o700 });
      scriptPath = temp;
    } else {
      scriptPath = localPathOf(o.script, "script");
    }
    try {
      const result = await withTimeout(durationMs(o.timeout, "timeout"), "shellLocal", signal, (s) =>
        comm.exec({ command: `/bin/sh -e ${shQuote(scriptPath)}`, env, workdir: ctx.projectRoot, ...outputTo(ctx.log) }, s),
      );
      const valid = exitCodesOf(o.validExitCodes);
      if (result.exitCode === null || !valid.includes(result.exitCode)) throw new Error(`local ${o.inline ? "commands" : `script ${scriptPath}`} exited with code ${result.exitCode}`);
    } finally {
      if (temp) await rm(temp, { force: true });
    }
  },
};

export default shellLocalProvisioner;
