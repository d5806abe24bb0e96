/**
 * Diagnostics: every problem a user can cause is an `ImgcError` with a stable code, one clear
 * sentence, where it happened (`file:line:col` in the user's original source) and what to do.
 * The CLI prints these without a stack trace (the stack appears under `--debug`).
 */
import { formatSite, type SourceSite } from "../lang/site.js";
import { relative, isAbsolute } from "node:path";

/** Exit codes of the `imgc` CLI (documented in docs/compiler.md). */
export const EXIT = {
  /** Everything went well (for `plan`: whether or not something would be built). */
  ok: 0,
  /** The definitions are wrong: type error, bad option, missing variable, cycle… (an `ImgcError`). */
  definitions: 1,
  /** The command line is wrong: unknown flag, missing argument. */
  usage: 2,
  /** A bug in imgc (an error that is not an `ImgcError`); rerun with `--debug` and report it. */
  internal: 3,
  /** A build failed (apply); reserved for the runtime. */
  buildFailed: 4,
  /** Interrupted by Ctrl-C (SIGINT). */
  interrupted: 130,
} as const;

/** Every diagnostic code the compiler emits. */
export type ImgcErrorCode =
  | "IMGC_FILE_NOT_FOUND"
  | "IMGC_SYNTAX"
  | "IMGC_IMPORT"
  | "IMGC_EVAL"
  | "IMGC_TYPE"
  | "IMGC_NO_IMAGES"
  | "IMGC_DUPLICATE_IMAGE"
  | "IMGC_DUPLICATE_NODE"
  | "IMGC_CYCLE"
  | "IMGC_VAR_MISSING"
  | "IMGC_VAR_INVALID"
  | "IMGC_VAR_UNKNOWN"
  | "IMGC_VAR_DUPLICATE"
  | "IMGC_VAR_FILE"
  | "IMGC_ENV_MISSING"
  | "IMGC_SECRET_MISSING"
  | "IMGC_UNKNOWN_PLATFORM"
  | "IMGC_PLATFORM_OPTION"
  | "IMGC_UNKNOWN_OPTION"
  | "IMGC_COMPILE_TIME"
  | "IMGC_FROM_PLATFORM"
  | "IMGC_ARTIFACT_REF"
  | "IMGC_STEP"
  | "IMGC_PATH"
  | "IMGC_SELECT"
  | "IMGC_ERRORS"
  | (string & {});

/** Fields of an `ImgcError`. */
export interface ImgcErrorInit {
  /** Stable code, e.g. `IMGC_CYCLE`. */
  readonly code: ImgcErrorCode;
  /** One sentence saying what is wrong. */
  readonly message: string;
  /** Where in the user's source (original positions). */
  readonly site?: SourceSite;
  /** What to do about it. */
  readonly hint?: string;
  /** Further errors reported together with this one (e.g. every missing variable). */
  readonly related?: readonly ImgcError[];
  /** The underlying error, shown under `--debug`. */
  readonly cause?: unknown;
}

/** Marks ImgcErrors across copies of imgc (never use instanceof across packages). */
const ERROR_BRAND: unique symbol = Symbol.for("imgc.error") as never;

/** A problem in the user's definitions or inputs. */
export class ImgcError extends Error {
  /** Marks ImgcErrors across copies of imgc. */
  readonly [ERROR_BRAND] = true;
  /** Stable code, e.g. `IMGC_CYCLE`. */
  readonly code: ImgcErrorCode;
  /** Where in the user's source. */
  readonly site?: SourceSite;
  /** What to do about it. */
  readonly hint?: string;
  /** Errors reported together with this one. */
  readonly related: readonly ImgcError[];

  constructor(init: ImgcErrorInit) {
    super(init.message, init.cause !== undefined ? { cause: init.cause } : undefined);
    this.name = "ImgcError";
    this.code = init.code;
    if (init.site) this.site = init.site;
    if (init.hint) this.hint = init.hint;
    this.related = init.related ?? [];
  }

  /** JSON form, for `--json` output. */
  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.site ? { site: this.site } : {}),
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.related.length ? { related: this.related.map((e) => e.toJSON()) } : {}),
    };
  }
}

/** True for an `ImgcError` (from any copy of imgc). */
export function isImgcError(x: unknown): x is ImgcError {
  return typeof x === "object" && x !== null && (x as Record<symbol, unknown>)[ERROR_BRAND] === true;
}

/**
 * One error for a list of problems: the list itself when there is one, otherwise an
 * `IMGC_ERRORS` error whose `related` lists them all (the CLI prints each).
 */
export function combineErrors(errors: readonly ImgcError[], what = "problems"): ImgcError {
  if (errors.length === 1) return errors[0]!;
  const codes = new Set(errors.map((e) => e.code));
  return new ImgcError({
    code: codes.size === 1 ? errors[0]!.code : "IMGC_ERRORS",
    message: `${errors.length} ${what} found`,
    related: errors,
  });
}

/** Throws the combined error if there is any. */
export function throwIfAny(errors: readonly ImgcError[], what?: string): void {
  if (errors.length) throw combineErrors(errors, what);
}

function siteText(site: SourceSite, cwd: string): string {
  const file = isAbsolute(site.file) && cwd ? relative(cwd, site.file) || site.file : site.file;
  return formatSite({ ...site, file: file.startsWith("..") ? site.file : file });
}

/**
 * Formats an error for a terminal: `file:line:col: error CODE: sentence` then `hint: …`, and
 * related errors the same way. Paths print relative to `cwd` when inside it. A non-ImgcError
 * prints as an internal error. `debug` appends stacks.
 */
export function formatError(error: unknown, options: { cwd?: string; debug?: boolean } = {}): string {
  const cwd = options.cwd ?? process.cwd();
  const lines: string[] = [];
  const one = (e: ImgcError): void => {
    const where = e.site && e.site.file !== "<unknown>" ? `${siteText(e.site, cwd)}: ` : "";
    if (!(e.related.length && /^\d+ .* found$/.test(e.message))) {
      lines.push(`${where}error ${e.code}: ${e.message}`);
      if (e.hint) lines.push(`  hint: ${e.hint}`);
      if (options.debug && e.stack) lines.push(indent(e.stack));
      if (options.debug && e.cause instanceof Error && e.cause.stack) lines.push(indent(`cause: ${e.cause.stack}`));
    } else {
      lines.push(`error ${e.code}: ${e.message}:`);
    }
    e.related.forEach(one);
  };
  if (isImgcError(error)) one(error);
  else {
    const e = error instanceof Error ? error : new Error(String(error));
    lines.push(`internal error: ${e.message}`);
    lines.push(options.debug ? indent(e.stack ?? "") : "  hint: this is a bug in imgc; rerun with --debug and report the stack trace");
  }
  return lines.join("\n");
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** The closest candidate within a sensible distance, or undefined. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}
