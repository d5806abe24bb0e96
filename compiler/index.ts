/**
 * The compiler's public API: turn a definitions file into a `BuildGraph` (compiler/ir.ts).
 *
 * Used by the CLI (`validate`, `plan`, `graph`) and by the runtime (`apply`, `destroy`). The
 * pipeline, one module per pass:
 *
 *   load.ts       import the user's module (TypeScript → JS per file with esbuild, inline source maps)
 *   collect.ts    images from the default export (image or array) and named exports, deduped
 *   variables.ts  --var > --var-file > IMGC_VAR_<name> > default; typed, validated, all errors at once
 *   fold.ts       variables / env() / templates of known parts → literals; runtime refs stay `{ $ref }`;
 *                 local paths → `$path` markers with content digests
 *   graph.ts      a node per image × platform (`<image>.<platform name>`), edges from `from`,
 *                 `dependsOn` and artifact refs, platform options checked with the registry's schema,
 *                 cycles named, topological order
 *   hash.ts       the Merkle cache key of every node (ANCHORS §D) and its `keyParts`
 *
 * Every user-facing failure is an `ImgcError` (compiler/diagnostics.ts) with a code, one sentence,
 * the `file:line:col` of the user's definition (mapped through source maps) and a hint.
 */
export { compileProject, type CompileOptions, type CompileResult, type SensitiveValues } from "./compile.js";
export { resolveDriverUrl } from "./driver-url.js";
export { ImgcError, isImgcError, formatError, EXIT, type ImgcErrorCode } from "./diagnostics.js";
export { IR_VERSION, isIrRef, isIrPath, type BuildGraph, type GraphNode, type IrStep, type IrSource, type IrRef, type IrPath } from "./ir.js";
