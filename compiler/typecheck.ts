/**
 * The real TypeScript checker for `imgc validate` (ts-morph). It uses the user's tsconfig.json
 * (the nearest one above the definitions file) or a strict NodeNext default, adds only the
 * definitions file (the program pulls in what it imports), skips library checking, and reports
 * diagnostics of the user's own files only — never of imgc or of node_modules.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Project, ts } from "ts-morph";
import { ImgcError } from "./diagnostics.js";
import { imgcRoot } from "./load.js";

/** Compiler options used when the project has no tsconfig.json. */
export const DEFAULT_COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  skipLibCheck: true,
  noEmit: true,
  allowImportingTsExtensions: true,
  esModuleInterop: true,
  resolveJsonModule: true,
  types: [],
};

/** The nearest tsconfig.json at or above `dir`, if any. */
export function findTsconfig(dir: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    const candidate = join(d, "tsconfig.json");
    if (existsSync(candidate)) return candidate;
    if (dirname(d) === d) return undefined;
  }
}

/**
 * When the project has no typed copy of imgc (running a global imgc, or a checkout whose dist/
 * has no declarations yet), map `imgc` and `imgc/*` to the running imgc's declarations, or to
 * its TypeScript sources, from its package.json `exports`, as the loader does at run time.
 */
function withImgcFallback(project: Project, file: string): void {
  const options = project.getCompilerOptions();
  const resolved = ts.resolveModuleName("imgc", file, options, ts.sys).resolvedModule;
  if (resolved && /\.d\.[cm]?ts$|\.[cm]?tsx?$/.test(resolved.resolvedFileName)) return;
  const pkg = JSON.parse(readFileSync(join(imgcRoot, "package.json"), "utf8")) as { exports?: Record<string, { types?: string } | string> };
  const paths: Record<string, string[]> = { ...(options.paths ?? {}) };
  const built = existsSync(join(imgcRoot, "dist/lang/index.d.ts"));
  for (const [key, target] of Object.entries(pkg.exports ?? {})) {
    if (typeof target !== "object" || !target.types) continue;
    const declarations = join(imgcRoot, target.types);
    const sources = join(imgcRoot, target.types.replace(/^\.\/dist\//, "").replace(/\.d\.ts$/, ".ts"));
    const name = key === "." ? "imgc" : `imgc/${key.slice(2)}`;
    if (name.includes("*")) paths[name] = [built ? declarations : sources];
    else if (existsSync(declarations)) paths[name] = [declarations];
    else if (existsSync(sources)) paths[name] = [sources];
  }
  project.compilerOptions.set({ paths });
}

function isUserFile(path: string): boolean {
  if (path.endsWith(".d.ts") || path.includes("/node_modules/")) return false;
  for (const dir of ["dist/", "lang/", "runtime/", "compiler/", "stdlib/", "cli/"]) if (path.startsWith(imgcRoot + dir)) return false;
  return true;
}

/** Type-checks the definitions file and what it imports; one ImgcError per diagnostic, in file order. */
export function typecheck(file: string): { errors: ImgcError[]; tsconfig?: string; files: number } {
  const tsconfig = findTsconfig(dirname(file));
  const project = tsconfig
    ? new Project({ tsConfigFilePath: tsconfig, skipAddingFilesFromTsConfig: true, compilerOptions: { noEmit: true, skipLibCheck: true, allowImportingTsExtensions: true } })
    : new Project({ compilerOptions: DEFAULT_COMPILER_OPTIONS });
  withImgcFallback(project, file);
  project.addSourceFileAtPath(file);
  const program = project.getProgram().compilerObject;
  const errors: ImgcError[] = [];
  let files = 0;
  for (const sf of program.getSourceFiles()) {
    if (!isUserFile(sf.fileName)) continue;
    files++;
    const diagnostics = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
    for (const d of diagnostics) {
      if (d.category !== ts.DiagnosticCategory.Error) continue;
      const pos = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : { line: 0, character: 0 };
      errors.push(
        new ImgcError({
          code: "IMGC_TYPE",
          message: messageOf(d.messageText),
          site: { file: d.file?.fileName ?? file, line: pos.line + 1, column: pos.character + 1 },
          hint: `TypeScript TS${d.code}; hover the expression in your editor for the full explanation`,
        }),
      );
    }
  }
  return { errors, ...(tsconfig ? { tsconfig } : {}), files };
}

/** One sentence from a (possibly chained) diagnostic: the head, plus its most specific detail. */
function messageOf(text: string | ts.DiagnosticMessageChain): string {
  if (typeof text === "string") return text;
  const parts: string[] = [text.messageText];
  let chain: ts.DiagnosticMessageChain | undefined = text;
  while (chain?.next?.length) {
    chain = chain.next[0];
    if (chain) parts.push(chain.messageText);
  }
  return parts.length > 1 ? `${parts[0]!.replace(/\.$/, "")}: ${parts[parts.length - 1]}` : parts[0]!;
}
