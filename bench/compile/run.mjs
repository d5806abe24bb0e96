#!/usr/bin/env node
// Compile benchmark: wall time and peak RSS of `imgc plan`, `imgc validate` and `packer validate`
// on generated projects of 100, 1,000 and 10,000 images (see generate.mjs), with ratios.
//
// imgc runs from a private snapshot of the current sources (bench/out/imgc: esbuild per file +
// declarations), installed into each generated project as node_modules/imgc, so concurrent
// rebuilds of the shared dist/ cannot disturb a measurement. Peak RSS is GNU time's maximum
// resident set size (the largest process of the tree: imgc runs in one process with its loader
// thread; esbuild's service is a child whose RSS is far smaller).
//
// `packer validate` (without -syntax-only) starts one plugin process per builder and per
// provisioner of the template (Packer 1.6.6): 8 per image here, so 8,000 processes for 1,000
// images. On a shared machine that is a fork bomb, so the full validate runs only with
// --packer-full and only up to 100 images; the table always has `packer validate -syntax-only`
// (parse and check the template, no plugins), the closest cheap equivalent of `imgc plan`.
//
// Usage: node bench/compile/run.mjs [--packer-full] [sizes…]   (default: 100 1000 10000)
// Goals (issue 2): plan of 1,000 < 2 s, of 10,000 < 15 s, peak RSS < 1 GiB; validate of 1,000 < 10 s.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "esbuild";

const repo = resolve(import.meta.dirname, "../..");
const out = join(repo, "bench/out");
const packerFull = process.argv.includes("--packer-full");
const sizes = process.argv.slice(2).map(Number).filter(Boolean);
if (!sizes.length) sizes.push(100, 1000, 10000);

// 1. A snapshot of imgc.
const snap = join(out, "imgc");
rmSync(snap, { recursive: true, force: true });
mkdirSync(snap, { recursive: true });
const sources = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === "node_modules" || name === "fixtures" ? [] : sources(p);
    return /\.ts$/.test(name) && !/\.(test|d)\.ts$/.test(name) ? [p] : [];
  });
await build({
  entryPoints: ["lang", "compiler", "runtime", "stdlib", "cli"].filter((d) => existsSync(join(repo, d))).flatMap((d) => sources(join(repo, d))),
  outdir: join(snap, "dist"),
  outbase: repo,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: true,
  logLevel: "error",
});
spawnSync("npx", ["tsc", "-p", join(repo, "tsconfig.build.json"), "--emitDeclarationOnly", "--outDir", join(snap, "dist")], { cwd: repo, stdio: "ignore" });
cpSync(join(repo, "package.json"), join(snap, "package.json"));
cpSync(join(repo, "bin"), join(snap, "bin"), { recursive: true });
symlinkSync(join(repo, "node_modules"), join(snap, "node_modules"));
const imgcBin = join(snap, "bin/imgc.js");

/** Runs a command under GNU time; returns wall seconds and peak RSS in MiB. */
function measure(cmd, args, cwd) {
  const r = spawnSync("/usr/bin/time", ["-f", "%e %M %U %S", cmd, ...args], { cwd, encoding: "utf8", maxBuffer: 1 << 30 });
  const last = r.stderr.trim().split("\n").pop() ?? "";
  const [wall, kb, user, sys] = last.split(" ").map(Number);
  if (r.status !== 0) {
    process.stderr.write(`${cmd} ${args.join(" ")} failed (exit ${r.status}):\n${r.stderr.slice(0, 2000)}\n`);
  }
  return { wall, cpu: user + sys, rss: kb / 1024, ok: r.status === 0 };
}

const rows = [];
for (const n of sizes) {
  const dir = execFileSync(process.execPath, [join(import.meta.dirname, "generate.mjs"), String(n)], { encoding: "utf8" }).trim();
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: `bench-${n}`, private: true, type: "module" }));
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  symlinkSync(snap, join(dir, "node_modules/imgc"));
  const plan = measure(process.execPath, [imgcBin, "plan", "--json"], dir);
  const validate = measure(process.execPath, [imgcBin, "validate"], dir);
  const packer = measure("packer", ["validate", "-syntax-only", "packer.json"], dir);
  const full = packerFull && n <= 100 ? measure("packer", ["validate", "packer.json"], dir) : { ok: false, skipped: true };
  rows.push({ n, plan, validate, packer, packerFull: full });
  printRow(rows[rows.length - 1]);
}

function printRow({ n, plan, validate, packer, packerFull }) {
  // wall / CPU (user + sys: what the run costs when the machine is shared) / peak RSS
  const f = (m) => (m.skipped ? "not run" : m.ok ? `${m.wall.toFixed(2)} s (cpu ${m.cpu.toFixed(2)} s) / ${m.rss.toFixed(0)} MiB` : "failed");
  const ratio = (a, b) => (a.ok && b.ok && b.wall > 0 ? `${(a.wall / b.wall).toFixed(2)}×` : "-");
  if (rows.length === 1) {
    console.log("| images | nodes | imgc plan | imgc validate | packer validate -syntax-only | packer validate | plan / packer -syntax-only | validate / packer -syntax-only |");
    console.log("|---:|---:|---:|---:|---:|---:|---:|---:|");
  }
  console.log(`| ${n.toLocaleString("en")} | ${(3 * n).toLocaleString("en")} | ${f(plan)} | ${f(validate)} | ${f(packer)} | ${f(packerFull)} | ${ratio(plan, packer)} | ${ratio(validate, packer)} |`);
}
