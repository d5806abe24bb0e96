#!/usr/bin/env node
// Builds dist/: esbuild transpiles every source file one to one (fast, keeps each module's
// identity and import.meta.url), and tsc writes the .d.ts files users' IDEs read. `--js-only`
// skips tsc (a quick rebuild while developing); otherwise type errors fail the build.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

const roots = ["lang", "compiler", "runtime", "stdlib", "cli"];
const jsOnly = process.argv.includes("--js-only");

function sources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "fixtures" || name === "node_modules" ? [] : sources(path);
    return /\.ts$/.test(name) && !/\.(test|d)\.ts$/.test(name) ? [path] : [];
  });
}

rmSync("dist", { recursive: true, force: true });
await build({
  entryPoints: roots.flatMap(sources),
  outdir: "dist",
  outbase: ".",
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: true,
  logLevel: "warning",
});
if (!jsOnly) {
  execFileSync("npx", ["tsc", "-p", "tsconfig.build.json", "--emitDeclarationOnly"], { stdio: "inherit" });
}
