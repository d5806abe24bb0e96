/**
 * What every command shares: the `ImgcCommand` module shape, the global flags, compiling with
 * them, output (plain or `--json`), and turning a failure into a message and an exit code.
 */
import type { Argv, Options } from "yargs";
import { compileProject, type CompileResult } from "../compiler/compile.js";
import { EXIT, formatError, isImgcError } from "../compiler/diagnostics.js";

/** Flags every command accepts. */
export interface GlobalArgs {
  /** The definitions file. @default "images.ts" */
  readonly file: string;
  /** `--var name=value`, repeatable. */
  readonly var?: readonly string[];
  /** `--var-file FILE`, repeatable. */
  readonly varFile?: readonly string[];
  /** `--only PATTERN`, repeatable or comma-separated. */
  readonly only?: readonly string[];
  /** `--except PATTERN`, repeatable or comma-separated. */
  readonly except?: readonly string[];
  /** Machine-readable output. */
  readonly json?: boolean;
  /** Stacks on errors, more logging. */
  readonly debug?: boolean;
}

/** The yargs definitions of the global flags. */
export const globalOptions: Record<string, Options> = {
  var: { type: "string", array: true, describe: "Set a variable (or a secret): --var name=value (repeatable)", requiresArg: true },
  "var-file": { type: "string", array: true, describe: "Variables from a JSON file or a .ts/.js module exporting an object (repeatable)", requiresArg: true },
  only: { type: "string", array: true, describe: "Only these nodes (ids, globs like 'web.*', or image names) and what they need", requiresArg: true },
  except: { type: "string", array: true, describe: "Skip these nodes and what depends on them", requiresArg: true },
  json: { type: "boolean", describe: "Print JSON instead of text" },
  debug: { type: "boolean", describe: "Print stack traces with errors" },
};

/** What a command's `run` gets besides its arguments. */
export interface Cli {
  /** Writes a line to stdout. */
  out(text: string): void;
  /** Writes a line to stderr. */
  err(text: string): void;
  /** Writes a JSON document to stdout. */
  json(value: unknown): void;
  /** compileProject with the global flags (file, --var, --var-file, --only, --except). */
  compile(args: GlobalArgs): Promise<CompileResult>;
  /** The working directory. */
  readonly cwd: string;
}

/** A command module's default export. */
export interface ImgcCommand<A extends object = object> {
  /** yargs command syntax, e.g. `plan [file]`. */
  readonly command: string;
  /** One line for --help. */
  readonly describe: string;
  /** Adds the command's own options. */
  builder?(y: Argv): Argv;
  /** Does the work; returns the exit code. May throw (see cli/main.ts). */
  run(args: A & GlobalArgs, cli: Cli): Promise<number>;
}

/** Splits repeatable, comma-separated flag values. */
export function listFlag(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => String(v).split(",")).map((v) => v.trim()).filter(Boolean);
}

/** Parses `--var name=value` pairs. */
export function parseVarFlags(values: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of values ?? []) {
    const eq = String(pair).indexOf("=");
    if (eq <= 0) throw new UsageError(`--var ${pair} is not name=value`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** A command-line mistake (exit 2). */
export class UsageError extends Error {}

/** Makes the `Cli` object for one run. */
export function makeCli(args: GlobalArgs, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Cli {
  const cwd = process.cwd();
  return {
    cwd,
    out: (text) => void stdout.write(`${text}\n`),
    err: (text) => void stderr.write(`${text}\n`),
    json: (value) => void stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    compile: (a) =>
      compileProject({
        file: a.file,
        cwd,
        vars: parseVarFlags(a.var),
        varFiles: a.varFile ?? [],
        only: listFlag(a.only),
        except: listFlag(a.except),
      }),
  };
}

/** Prints a failure and returns its exit code. */
export function reportFailure(error: unknown, cli: Cli, args: GlobalArgs): number {
  if (error instanceof UsageError) {
    cli.err(`error: ${error.message}`);
    return EXIT.usage;
  }
  if (args.json) {
    cli.json({ ok: false, error: isImgcError(error) ? error.toJSON() : { code: "INTERNAL", message: (error as Error)?.message ?? String(error) } });
  } else cli.err(formatError(error, { cwd: cli.cwd, debug: !!args.debug }));
  return isImgcError(error) ? EXIT.definitions : EXIT.internal;
}
