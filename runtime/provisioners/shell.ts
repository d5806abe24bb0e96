/**
 * The `shell` provisioner (Packer's shell): uploads each script (inline lines become one script
 * with `inlineShebang`) to `remoteFolder` and runs it with `executeCommand`.
 *
 * Environment: the values never enter a command line. They go, safely single-quoted, into an
 * env file uploaded beside the script (mode 0600, always deleted after), and `{{.Vars}}`
 * expands to `. <env file>;`, which works inside any quoting the template adds
 * (`sudo sh -c '{{.Vars}} {{.Path}}'`). Secrets in env stay out of `ps` and shell history.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { posix } from "node:path";
import type { Communicator, ProvisionerContext, ProvisionerImpl } from "../types.js";
import { exportLines } from "../communicators/shell-quote.js";
import { sleep } from "../communicators/ssh-transport.js";
import { durationMs, envOf, exitCodesOf, localPathOf, outputTo, pause, withTimeout } from "./common.js";

/** Shell options as the runtime receives them (resolved). */
export interface ShellRuntimeOptions {
  readonly inline?: readonly string[];
  readonly scripts?: readonly unknown[];
  readonly env?: Readonly<Record<string, string>>;
  readonly executeCommand?: string;
  readonly inlineShebang?: string;
  readonly remoteFolder?: string;
  readonly expectDisconnect?: boolean;
  readonly validExitCodes?: readonly number[];
  readonly maxRetries?: number;
  readonly timeout?: string | number;
  readonly pauseBefore?: string | number;
  readonly skipClean?: boolean;
}

/** Packer's default, with `{{.Vars}}` sourcing the env file. */
export const DEFAULT_EXECUTE_COMMAND = "chmod +x {{.Path}}; {{.Vars}} {{.Path}}";

/** One script to run: a name for messages and its text. */
interface Script {
  readonly name: string;
  readonly text: string;
}

/** Fills `{{.Vars}}` and `{{.Path}}` (Packer's spellings, spaces allowed). */
export function renderExecuteCommand(template: string, vars: string, path: string): string {
  const unknown = template.match(/\{\{\s*\.(\w+)\s*\}\}/g)?.find((m) => !/\.(Vars|Path)\s*\}\}$/.test(m));
  if (unknown) throw new Error(`executeCommand uses ${unknown}; only {{.Vars}} and {{.Path}} are known`);
  return template.replace(/\{\{\s*\.Vars\s*\}\}/g, vars).replace(/\{\{\s*\.Path\s*\}\}/g, path);
}

async function scriptsOf(o: ShellRuntimeOptions): Promise<Script[]> {
  const given = [o.inline !== undefined, o.scripts !== undefined].filter(Boolean).length;
  if (given !== 1) throw new Error("shell needs exactly one of inline, script or scripts");
  if (o.inline) {
    const shebang = o.inlineShebang ?? "/bin/sh -e";
    return [{ name: "inline script", text: `#!${shebang}\n${o.inline.join("\n")}\n` }];
  }
  return Promise.all(
    o.scripts!.map(async (p, i) => {
      const path = localPathOf(p, `scripts[${i}]`);
      return { name: `script ${path}`, text: await readFile(path, "utf8") };
    }),
  );
}

/** Env that every script sees, as Packer's PACKER_BUILD_NAME and PACKER_BUILDER_TYPE. */
function builtinEnv(ctx: ProvisionerContext): Record<string, string> {
  const env: Record<string, string> = { IMGC_BUILD_NAME: ctx.node.id, IMGC_IMAGE: ctx.node.image, IMGC_BUILDER_TYPE: ctx.node.type };
  if (ctx.facts.host) env.IMGC_HOST = ctx.facts.host;
  if (ctx.facts.httpIp && ctx.facts.httpPort) env.IMGC_HTTP_ADDR = `${ctx.facts.httpIp}:${ctx.facts.httpPort}`;
  return env;
}

async function removeFiles(comm: Communicator, paths: string[], ctx: ProvisionerContext): Promise<void> {
  // After a reboot or on a broken connection this may fail; a leftover in /tmp is not worth failing the build.
  try {
    await comm.exec({ command: `rm -f ${paths.join(" ")}` }, AbortSignal.timeout(15_000));
  } catch (err) {
    ctx.log.log("warn", `could not remove ${paths.join(", ")}: ${(err as Error).message}`);
  }
}

/** Runs one script once; throws on failure. */
async function runOnce(script: Script, o: ShellRuntimeOptions, env: Record<string, string>, ctx: ProvisionerContext, signal: AbortSignal): Promise<void> {
  const comm = ctx.comm;
  const folder = o.remoteFolder ?? "/tmp";
  const id = randomBytes(6).toString("hex");
  const scriptPath = posix.join(folder, `imgc-script-${id}.sh`);
  const envPath = posix.join(folder, `imgc-env-${id}.sh`);
  const hasEnv = Object.keys(env).length > 0;
  await comm.upload(scriptPath, Buffer.from(script.text), { mode: 0o755 }, signal);
  if (hasEnv) await comm.upload(envPath, Buffer.from(exportLines(env)), { mode: 0o600 }, signal);
  const command = renderExecuteCommand(o.executeCommand ?? DEFAULT_EXECUTE_COMMAND, hasEnv ? `. ${envPath};` : "", scriptPath);
  let cleaned = false;
  const clean = async () => {
    if (cleaned) return;
    cleaned = true;
    const files = [...(o.skipClean ? [] : [scriptPath]), ...(hasEnv ? [envPath] : [])];
    if (files.length > 0) await removeFiles(comm, files, ctx);
  };
  try {
    ctx.log.log("debug", `running ${script.name} as ${scriptPath}`);
    const result = await comm.exec({ command, ...outputTo(ctx.log) }, signal);
    if (result.exitCode === null) {
      if (!o.expectDisconnect) {
        throw new Error(`the connection was lost while ${script.name} ran (set expectDisconnect: true if it reboots the machine)`);
      }
      ctx.log.log("info", `${script.name}: connection lost as expected; reconnecting`);
      cleaned = true; // The files may be gone with a reboot; try after reconnecting.
      if (!comm.reconnect) throw new Error(`the ${comm.kind} communicator cannot reconnect after the expected disconnect`);
      await comm.reconnect(signal);
      cleaned = false;
      await clean();
      return;
    }
    const valid = exitCodesOf(o.validExitCodes);
    if (!valid.includes(result.exitCode)) {
      throw new Error(`${script.name} exited with code ${result.exitCode}${valid.length === 1 && valid[0] === 0 ? "" : ` (valid: ${valid.join(", ")})`}`);
    }
  } finally {
    // Also after a timeout or an abort: the env file may hold secrets.
    await clean();
  }
}

/** The shell provisioner. */
export const shellProvisioner: ProvisionerImpl<ShellRuntimeOptions> = {
  type: "shell",
  async run(o, ctx, signal) {
    const remoteFolder = o.remoteFolder ?? "/tmp";
    // The folder is spliced into the command template: keep it to characters that need no quoting.
    if (!/^\/[A-Za-z0-9_./-]*$/.test(remoteFolder)) throw new Error(`remoteFolder ${JSON.stringify(remoteFolder)} must be an absolute path of letters, digits, "_", ".", "-" and "/"`);
    const retries = o.maxRetries ?? 0;
    if (!Number.isInteger(retries) || retries < 0) throw new Error(`maxRetries must be a non-negative integer, got ${JSON.stringify(o.maxRetries)}`);
    const timeoutMs = durationMs(o.timeout, "timeout");
    const env = { ...builtinEnv(ctx), ...envOf(o.env, "env") };
    await pause(durationMs(o.pauseBefore, "pauseBefore"), ctx.log, signal);
    for (const script of await scriptsOf(o)) {
      for (let attempt = 0; ; attempt++) {
        try {
          await withTimeout(timeoutMs, script.name, signal, (s) => runOnce(script, o, env, ctx, s));
          break;
        } catch (err) {
          if (signal.aborted || attempt >= retries) throw err;
          ctx.log.log("warn", `${(err as Error).message}; retrying (${attempt + 1} of ${retries})`);
          await sleep(Math.min(1000 * (attempt + 1), 10_000), signal);
        }
      }
    }
  },
};

export default shellProvisioner;
