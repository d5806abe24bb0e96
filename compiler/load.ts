/**
 * Loads the user's definitions module. TypeScript is transformed per file by esbuild in Node's
 * loader hooks (load-hooks.ts), never bundled, so every file keeps its own identity:
 * `import.meta.url`, relative paths and files shipped beside a component library's code work.
 *
 * Sites recorded by lang/ are *generated* positions; `mapSite` maps them back to the original
 * source through the inline source map Node caches for each loaded file (`findSourceMap`).
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire, findSourceMap, register } from "node:module";
import { dirname, join } from "node:path";
import vm from "node:vm";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { SourceSite } from "../lang/site.js";
import { ImgcError } from "./diagnostics.js";
import { HOOKS_SOURCE } from "./load-hooks.js";

/** The root directory of the running imgc package (with a trailing slash). */
export const imgcRoot: string = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, "package.json"))) {
      try {
        if (JSON.parse(readFileSync(join(d, "package.json"), "utf8")).name === "imgc") return d.endsWith("/") ? d : `${d}/`;
      } catch {
        /* not ours */
      }
    }
    if (dirname(d) === d) return `${dir}/`;
  }
}

let registered = false;
let generation = 0;

/** Registers the loader hooks once per process. */
function ensureHooks(): void {
  if (registered) return;
  // Source maps: Node caches the inline map of every module loaded after this, for findSourceMap.
  process.setSourceMapsEnabled(true);
  const require = createRequire(import.meta.url);
  const esbuildUrl = pathToFileURL(require.resolve("esbuild")).href;
  register(`data:text/javascript,${encodeURIComponent(HOOKS_SOURCE)}`, {
    parentURL: import.meta.url,
    data: { esbuildUrl, imgcRoot, imgcSelf: pathToFileURL(join(imgcRoot, "package.json")).href },
  });
  registered = true;
}

// A native dynamic import that test runners and bundlers do not rewrite, so it goes through
// Node's loader and the hooks above. Under a runner that evaluates modules with vm (vitest),
// code made by `new Function` has no import callback: then compile it with vm and Node's default
// loader (experimental in Node 20, hence only as the fallback: it prints a warning).
let nativeImport = new Function("url", "return import(url)") as (url: string) => Promise<Record<string, unknown>>;
async function importNative(url: string): Promise<Record<string, unknown>> {
  try {
    return await nativeImport(url);
  } catch (error) {
    if ((error as NodeJS.ErrnoException)?.code !== "ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING") throw error;
    nativeImport = vm.compileFunction("return import(url)", ["url"], {
      importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    } as vm.CompileFunctionOptions) as typeof nativeImport;
    return nativeImport(url);
  }
}

/** The current load generation: the `?imgc-gen=N` query of user files loaded by the last `loadModule`. */
export function currentGeneration(): number {
  return generation;
}

/**
 * Imports a module of the user's project (the definitions file, or a `--var-file` module) and
 * returns its namespace. Syntax errors and failed imports become ImgcErrors with a site.
 * `fresh` starts a new generation so the user's files evaluate again (a second compile in the
 * same process sees edits and re-declares its variables).
 */
export async function loadModule(file: string, options: { fresh?: boolean } = {}): Promise<Record<string, unknown>> {
  ensureHooks();
  if (options.fresh !== false) generation += 1;
  const url = pathToFileURL(file);
  url.searchParams.set("imgc-gen", String(generation));
  try {
    return await importNative(url.href);
  } catch (error) {
    throw toLoadError(error, file);
  }
}

/** Turns an import failure into an ImgcError naming the file, line and column. */
function toLoadError(error: unknown, entry: string): unknown {
  const e = error as NodeJS.ErrnoException & { url?: string };
  const message = typeof e?.message === "string" ? e.message : String(error);
  const syntax = message.indexOf("IMGC_SYNTAX");
  if (syntax >= 0) {
    const info = JSON.parse(message.slice(syntax + "IMGC_SYNTAX".length)) as { file: string; line: number; column: number; text: string };
    return new ImgcError({
      code: "IMGC_SYNTAX",
      message: `syntax error: ${info.text.replace(/\.$/, "")}`,
      site: { file: info.file, line: info.line, column: info.column },
      hint: "fix the TypeScript syntax at this position",
    });
  }
  if (e?.code === "ERR_MODULE_NOT_FOUND" || e?.code === "ERR_PACKAGE_PATH_NOT_EXPORTED" || e?.code === "ERR_UNSUPPORTED_DIR_IMPORT") {
    // "Cannot find module '/a/b' imported from /a/c.ts" / "Cannot find package 'x' imported from /a/c.ts"
    const m = /(?:module|package) '([^']+)' imported from (.+)$/m.exec(message);
    const what = m?.[1] ?? "a module";
    const importer = m?.[2] ? cleanPath(m[2]) : entry;
    const written = m ? findSpecifier(importer, what) : undefined;
    return new ImgcError({
      code: "IMGC_IMPORT",
      message: `cannot import ${JSON.stringify(written?.specifier ?? what)}: ${e.code === "ERR_PACKAGE_PATH_NOT_EXPORTED" ? "the package does not export that path" : "no such module or package"}`,
      site: { file: importer, line: written?.line ?? 1, column: written?.column ?? 1 },
      hint: /^[./]/.test(written?.specifier ?? what)
        ? "check the relative path (TypeScript files may be imported as ./x.js or ./x.ts)"
        : "install the package (npm install) or fix its name",
      cause: error,
    });
  }
  if (error instanceof SyntaxError) {
    // A JavaScript file Node parsed itself (esbuild handles .ts), or an import of a missing export.
    const site = siteFromStack(error) ?? { file: entry, line: 1, column: 1 };
    return new ImgcError({ code: /export named/.test(message) ? "IMGC_IMPORT" : "IMGC_SYNTAX", message: message.split("\n")[0]!, site, hint: "fix the module at this position", cause: error });
  }
  return evaluationError(error, entry);
}

/** An error thrown while the user's code ran, located at the innermost user frame. */
export function evaluationError(error: unknown, entry: string): unknown {
  if (typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[Symbol.for("imgc.error")]) return error;
  const e = error instanceof Error ? error : new Error(String(error));
  const site = siteFromStack(e) ?? { file: entry, line: 1, column: 1 };
  return new ImgcError({
    code: "IMGC_EVAL",
    message: `the definitions threw while loading: ${e.message.split("\n")[0]}`,
    site,
    hint: "fix the code at this position (rerun with --debug for the full stack)",
    cause: e,
  });
}

function cleanPath(p: string): string {
  const s = p.trim();
  return s.startsWith("file:") ? fileURLToPath(s) : s.replace(/\?imgc-gen=\d+$/, "");
}

/** Where `specifier` (or the import that resolved to it) is written in `file`. */
function findSpecifier(file: string, resolved: string): { specifier: string; line: number; column: number } | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const re = /(?:from\s*|import\s*\(?\s*)(["'])([^"']+)\1/g;
  for (const m of text.matchAll(re)) {
    const spec = m[2]!;
    const stem = spec.replace(/^\.\.?\//, "").replace(/\.(c|m)?[jt]s$/, "");
    if (spec === resolved || resolved.endsWith(stem) || resolved.includes(`/${stem}`) || resolved === spec.split("/")[0]) {
      const index = m.index! + m[0].indexOf(m[1]!);
      const before = text.slice(0, index);
      const line = before.split("\n").length;
      return { specifier: spec, line, column: index - before.lastIndexOf("\n") };
    }
  }
  return undefined;
}

function isImgcFile(file: string): boolean {
  return (
    file.startsWith(imgcRoot + "dist/") ||
    file.startsWith(imgcRoot + "lang/") ||
    file.startsWith(imgcRoot + "compiler/") ||
    file.includes("/node_modules/esbuild/") ||
    file.includes("/node_modules/vitest/") ||
    file.includes("/node_modules/@vitest/")
  );
}

/**
 * The innermost stack frame in a user file (not imgc, not node internals), in original
 * positions. Reads V8's structured call sites (raw generated positions, mapped here) when the
 * stack has not been formatted yet; otherwise parses the formatted stack, which Node has
 * already source-mapped.
 */
export function siteFromStack(error: Error): SourceSite | undefined {
  const previous = Error.prepareStackTrace;
  let frames: unknown;
  try {
    Error.prepareStackTrace = (_e, callSites) => callSites;
    frames = error.stack;
  } finally {
    Error.prepareStackTrace = previous;
  }
  if (Array.isArray(frames)) {
    for (const frame of frames as NodeJS.CallSite[]) {
      const name = frame.getFileName();
      if (!name || name.startsWith("node:")) continue;
      const file = cleanPath(name);
      if (isImgcFile(file)) continue;
      return mapSite({ file, line: frame.getLineNumber() ?? 0, column: frame.getColumnNumber() ?? 0 });
    }
    return undefined;
  }
  for (const line of String(frames ?? "").split("\n").slice(1)) {
    const m = /\(?((?:file:\/\/)?\/[^()]+?):(\d+):(\d+)\)?\s*$/.exec(line);
    if (!m) continue;
    const file = cleanPath(m[1]!);
    if (isImgcFile(file)) continue;
    return { file, line: Number(m[2]), column: Number(m[3]) };
  }
  return undefined;
}

type Map_ = ReturnType<typeof findSourceMap>;
const maps = new Map<string, Map_ | null>();
let mapsGeneration = -1;

/** The source map Node cached for a user file of the current generation (or of no generation). */
function sourceMapOf(file: string): Map_ | null {
  if (mapsGeneration !== generation) {
    maps.clear();
    mapsGeneration = generation;
  }
  let map = maps.get(file);
  if (map === undefined) {
    const url = pathToFileURL(file);
    const plain = url.href;
    if (generation) url.searchParams.set("imgc-gen", String(generation));
    map = findSourceMap(url.href) ?? findSourceMap(plain) ?? null;
    maps.set(file, map);
  }
  return map;
}

/**
 * Maps a generated position recorded by lang/site.ts to the original source position. Files
 * without a source map (plain JavaScript) are returned unchanged.
 */
export function mapSite(site: SourceSite): SourceSite {
  if (site.file === "<unknown>" || site.line === 0) return site;
  const map = sourceMapOf(site.file);
  if (!map) return site;
  const entry = map.findEntry(site.line - 1, site.column - 1) as { originalLine?: number; originalColumn?: number };
  if (!entry || typeof entry.originalLine !== "number") return site;
  return { file: site.file, line: entry.originalLine + 1, column: (entry.originalColumn ?? 0) + 1 };
}
