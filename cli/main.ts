#!/usr/bin/env node
/**
 * The `imgc` command line (yargs).
 *
 * Commands live one per module in `cli/commands/<name>.ts` and are registered by name in
 * `COMMANDS` below: adding a command is one line. A command module's default export is an
 * `ImgcCommand` (cli/command.ts):
 *
 *   import type { ImgcCommand } from "../command.js";
 *   const apply: ImgcCommand<{ parallelism: number }> = {
 *     command: "apply [file]",                       // yargs syntax; [file] defaults to images.ts
 *     describe: "Build what changed",                // shown by --help
 *     builder: (y) => y.option("parallelism", { type: "number", default: 4, describe: "…" }),
 *     async run(args, cli) {                         // args: its options + GlobalArgs (--var, --only, --json…)
 *       const { graph, sensitiveValues } = await cli.compile(args);   // compileProject with the global flags
 *       cli.out("…");                                // stdout; cli.err for stderr; cli.json(value) under --json
 *       return EXIT.ok;                              // the process exit code
 *     },
 *   };
 *   export default apply;
 *
 * `run` may throw: an ImgcError prints as `file:line:col: error CODE: sentence` + hint (exit 1),
 * anything else as an internal error (exit 3); `--debug` adds stacks. Global flags (--var,
 * --var-file, --only, --except, --json, --debug) are parsed here for every command. Exit codes
 * are listed in docs/compiler.md and compiler/diagnostics.ts `EXIT`.
 */
import yargs, { type Argv } from "yargs";
import { hideBin } from "yargs/helpers";
import { EXIT } from "../compiler/diagnostics.js";
import { globalOptions, makeCli, reportFailure, type ImgcCommand, type GlobalArgs } from "./command.js";

/** The registered commands, by module name in cli/commands/. One line per command. */
export const COMMANDS: readonly string[] = [
  "validate",
  "plan",
  "graph",
  "init",
  "apply",
  "destroy",
  "state",
];

async function loadCommands(): Promise<ImgcCommand<object>[]> {
  return Promise.all(COMMANDS.map(async (name) => (await import(`./commands/${name}.js`)).default as ImgcCommand<object>));
}

/** True when the command line asks for help text (the only time yargs prints it here). */
function wantsHelp(argv: readonly string[]): boolean {
  return argv.length === 0 || argv.includes("--help") || argv.includes("-h") || argv.includes("help");
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: readonly string[], io: { stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream } = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const commands = await loadCommands();
  let exitCode: number = EXIT.ok;
  let parser: Argv = yargs([...argv])
    .scriptName("imgc")
    .usage("$0 <command> [file] [options]\n\nMachine images from typed TypeScript definitions.")
    .options(globalOptions)
    .strict()
    .demandCommand(1, "name a command (imgc --help lists them)")
    .recommendCommands()
    .help()
    .alias("help", "h")
    .version(false)
    // yargs renders (and caches) the full help text before every command runs, and wrapping it
    // measures every cell's width (string-width, wrap-ansi): ~30 ms of a 0.5 s no-op apply. Help
    // only shows with --help, so wrap only then.
    .wrap(wantsHelp(argv) ? Math.min(110, (stdout as { columns?: number }).columns ?? 100) : null)
    .exitProcess(false)
    .fail((message, error, y) => {
      if (error) throw error;
      void y;
      if (exitCode === EXIT.usage) return; // one usage message is enough
      stderr.write(`error: ${message}\n  hint: imgc --help lists commands and options\n`);
      exitCode = EXIT.usage;
    });
  for (const cmd of commands) {
    parser = parser.command({
      command: cmd.command,
      describe: cmd.describe,
      builder: (y: Argv) => {
        const b = cmd.builder ? cmd.builder(y) : y;
        return cmd.command.includes("[file]") ? b.positional("file", { type: "string", default: "images.ts", describe: "The definitions file" }) : b;
      },
      handler: async (args: Record<string, unknown>) => {
        // With exitProcess(false), yargs still calls the handler after a usage error (an
        // unknown option): a mistyped flag must not run the command.
        if (exitCode === EXIT.usage) return;
        const cli = makeCli(args as unknown as GlobalArgs, stdout, stderr);
        try {
          exitCode = await cmd.run(args as never, cli);
        } catch (error) {
          exitCode = reportFailure(error, cli, args as unknown as GlobalArgs);
        }
      },
    });
  }
  try {
    await parser.parseAsync();
  } catch (error) {
    stderr.write(`internal error: ${(error as Error).message}\n`);
    exitCode = EXIT.internal;
  }
  return exitCode;
}

// Run when executed (bin/imgc.js imports this module).
const isEntry = process.argv[1] !== undefined && /(?:^|[/\\])(?:imgc(?:\.js)?|main\.[jt]s)$/.test(process.argv[1]);
if (isEntry) {
  process.on("SIGINT", () => process.exit(EXIT.interrupted));
  // `imgc plan | head`: a closed pipe ends the output, it is not an internal error.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
  main(hideBin(process.argv)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`internal error: ${(error as Error)?.stack ?? error}\n`);
      process.exitCode = EXIT.internal;
    },
  );
}
