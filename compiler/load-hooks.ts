/**
 * Node module-customisation hooks that let the user's TypeScript load file by file. They run on
 * Node's loader thread, registered from a `data:` URL (so they work both from `dist/` and when
 * imgc's own sources run under vitest), and receive esbuild's location through `initialize`.
 *
 * - `load`: a `.ts`/`.mts`/`.cts` file (including inside node_modules, for component libraries
 *   published as TypeScript) is transformed alone with esbuild, with an inline source map so
 *   stack traces and `findSourceMap` give original positions. `import.meta.url` stays the file's.
 * - `resolve`: `./x.js` written in TypeScript finds `./x.ts` (the NodeNext convention); `imgc`
 *   and `imgc/*` fall back to the running imgc when the project has no copy of its own; files of
 *   the user's project (outside node_modules and imgc itself) inherit the `?imgc-gen=N` query of
 *   their importer (the entry gets it from load.ts), so a second compile in the same process
 *   evaluates them afresh.
 * - Syntax errors come back as an Error whose message starts with `IMGC_SYNTAX` and carries
 *   esbuild's location as JSON, which load.ts turns into an ImgcError.
 */
export const HOOKS_SOURCE = String.raw`
let esbuild;
let imgcRoot;
let imgcSelf;
export async function initialize(data) {
  esbuild = await import(data.esbuildUrl);
  imgcRoot = data.imgcRoot;
  imgcSelf = data.imgcSelf;
}
const TS = /\.(c|m)?tsx?$/;
function isOwn(url) {
  if (!url.startsWith("file:")) return true;
  const path = decodeURIComponent(new URL(url).pathname);
  if (path.includes("/node_modules/")) return true;
  for (const dir of ["dist/", "lang/", "runtime/", "compiler/", "stdlib/", "cli/"]) {
    if (path.startsWith(imgcRoot + dir)) return true;
  }
  return false;
}
// A user file inherits the generation of the file that imports it (the entry carries it).
function generationOf(parentURL) {
  if (!parentURL || !parentURL.startsWith("file:")) return null;
  return new URL(parentURL).searchParams.get("imgc-gen");
}
function withGeneration(url, generation) {
  if (!generation || isOwn(url)) return url;
  const u = new URL(url);
  u.searchParams.set("imgc-gen", generation);
  return u.href;
}
export async function resolve(specifier, context, next) {
  const generation = generationOf(context.parentURL);
  try {
    const r = await next(specifier, context);
    return { ...r, url: withGeneration(r.url, generation) };
  } catch (error) {
    const parent = context.parentURL ?? "";
    if ((specifier.startsWith("./") || specifier.startsWith("../")) && /\.(c|m)?js$/.test(specifier) && TS.test(new URL(parent).pathname)) {
      try {
        const r = await next(specifier.replace(/js$/, "ts"), context);
        return { ...r, url: withGeneration(r.url, generation) };
      } catch {}
    }
    if (specifier === "imgc" || specifier.startsWith("imgc/")) {
      try {
        return await next(specifier, { ...context, parentURL: imgcSelf });
      } catch {}
    }
    throw error;
  }
}
export async function load(url, context, next) {
  const path = url.startsWith("file:") ? decodeURIComponent(new URL(url).pathname) : "";
  if (!TS.test(path) || path.endsWith(".d.ts")) return next(url, context);
  const fs = await import("node:fs/promises");
  const source = await fs.readFile(path, "utf8");
  try {
    const out = await esbuild.transform(source, {
      loader: path.endsWith("x") ? "tsx" : "ts",
      format: "esm",
      target: "node20",
      sourcemap: "inline",
      sourcefile: path,
      sourcesContent: false,
      tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: false, preserveValueImports: false } },
    });
    return { format: "module", source: out.code, shortCircuit: true };
  } catch (error) {
    const first = (error && error.errors && error.errors[0]) || { text: String(error && error.message) };
    const loc = first.location || {};
    throw new Error("IMGC_SYNTAX" + JSON.stringify({ file: path, line: loc.line || 0, column: (loc.column || 0) + 1, text: first.text }));
  }
}
`;
