/**
 * Call-site capture: every declaration remembers where the user wrote it, so diagnostics can
 * say `file:line:col`. We record the *generated* position (cheap: V8's structured call sites);
 * the compiler maps it through the per-file source map only when it needs it.
 */
import { fileURLToPath } from "node:url";

/** Where in the user's source a declaration was written. */
export interface SourceSite {
  /** Absolute path of the file that made the call. */
  readonly file: string;
  /** 1-based line (generated position until the compiler maps it). */
  readonly line: number;
  /** 1-based column (generated position until the compiler maps it). */
  readonly column: number;
}

const langDir = fileURLToPath(new URL(".", import.meta.url));
// imgc's own component library: a provisioner it makes belongs to the user's line that called
// the component (diagnostics point there, and relative paths resolve against the user's file).
const stdlibDir = fileURLToPath(new URL("../stdlib/", import.meta.url));

/** An unknown site, for values made outside any user file (tests, the CLI). */
export const unknownSite: SourceSite = Object.freeze({ file: "<unknown>", line: 0, column: 0 });

// Memoised: one definitions file yields thousands of sites, and fileURLToPath is not free.
const paths = new Map<string, string>();
function toPath(name: string): string {
  let path = paths.get(name);
  if (path === undefined) {
    path = name.startsWith("file://") ? fileURLToPath(name) : name;
    paths.set(name, path);
  }
  return path;
}

/**
 * The first stack frame outside imgc's `lang/` and `stdlib/` folders: the user's call (or a
 * component library's, which is what "relative to the file that wrote it" needs).
 * `skipDirs`: further directories whose frames are imgc's own (a factory that lives beside its
 * runtime, e.g. `runtime/export/`, passes its own folder).
 */
export function captureSite(skipDirs: readonly string[] = []): SourceSite {
  const originalPrepare = Error.prepareStackTrace;
  const originalLimit = Error.stackTraceLimit;
  let frames: NodeJS.CallSite[] = [];
  try {
    Error.stackTraceLimit = 12;
    Error.prepareStackTrace = (_error, callSites) => callSites;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, captureSite);
    frames = (holder.stack as NodeJS.CallSite[] | undefined) ?? [];
  } finally {
    Error.prepareStackTrace = originalPrepare;
    Error.stackTraceLimit = originalLimit;
  }
  for (const frame of frames) {
    const name = frame.getFileName();
    if (!name || name.startsWith("node:")) continue;
    const file = toPath(name);
    if (file.startsWith(langDir) || file.startsWith(stdlibDir) || skipDirs.some((d) => file.startsWith(d))) continue;
    return { file, line: frame.getLineNumber() ?? 0, column: frame.getColumnNumber() ?? 0 };
  }
  return unknownSite;
}

/** `file:line:col`, the form editors and terminals turn into links. */
export function formatSite(site: SourceSite): string {
  return `${site.file}:${site.line}:${site.column}`;
}
