#!/usr/bin/env node
// imgc vs Packer 1.6.6 vs the raw docker-CLI floor on the four docker scenarios, in one run.
//
//   node bench/docker/run.mjs [--runs 5] [--only tiny,steps20] [--packer-dir DIR] [--sides imgc,packer,floor]
//
// DIR (default ../shared/bench-packer beside this checkout) holds the Packer templates, the raw
// floor scripts, make-base.sh and make-payload.sh; they are copied to bench/out/packer (ignored
// by git) and run from there. Each scenario: one warm-up of every side, then --runs rounds run
// interleaved (imgc, Packer, floor, imgc, …). Printed: median wall time, the median of each
// run's peak RSS summed over the whole process tree (sampled from /proc every 10 ms; dockerd is
// not part of any side's tree), and the ratios imgc/Packer and imgc/floor.
import { spawn, execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "..", "..");
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const runs = Number(arg("runs", "5"));
const scenarios = arg("only", "tiny,steps20,files,parallel4").split(",");
const sides = arg("sides", "imgc,packer,floor").split(",");
const packerSrc = resolve(arg("packer-dir", join(repo, "..", "shared", "bench-packer")));
const out = join(repo, "bench", "out");
const scratch = join(out, "packer");

function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], ...opts });
}

// --- set-up: scratch copy, payload, base image, a built imgc -------------------------------
mkdirSync(scratch, { recursive: true });
for (const f of readdirSync(packerSrc)) cpSync(join(packerSrc, f), join(scratch, f), { recursive: true });
if (!existsSync(join(out, "payload", "SHA256SUMS"))) sh("bash", [join(scratch, "make-payload.sh"), join(out, "payload")], { stdio: "inherit" });
// A real copy: `docker cp` (Packer, the floor) would copy a symlink as a link.
rmSync(join(scratch, "payload"), { recursive: true, force: true });
cpSync(join(out, "payload"), join(scratch, "payload"), { recursive: true });
try {
  sh("docker", ["image", "inspect", "bench/base:1"]);
} catch {
  console.log("making bench/base:1 (debootstrap, once)…");
  sh("bash", [join(scratch, "make-base.sh")], { stdio: "inherit" });
}
if (!existsSync(join(repo, "dist", "cli", "main.js"))) sh("npm", ["run", "build:js"], { cwd: repo, stdio: "inherit" });

// --- measuring one command -------------------------------------------------------------------
function procTable() {
  const table = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const rssPages = Number(fields[21]);
      table.set(Number(name), { ppid: Number(fields[1]), rss: rssPages * 4096 });
    } catch {
      /* the process ended while we looked */
    }
  }
  return table;
}

function treeRss(root) {
  const table = procTable();
  const children = new Map();
  for (const [pid, p] of table) (children.get(p.ppid) ?? children.set(p.ppid, []).get(p.ppid)).push(pid);
  let sum = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop();
    const p = table.get(pid);
    if (p) sum += p.rss;
    stack.push(...(children.get(pid) ?? []));
  }
  return sum;
}

function measure(cmd, args, cwd) {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "1", PACKER_LOG: "" } });
    let output = "";
    child.stdout.on("data", (c) => (output += c));
    child.stderr.on("data", (c) => (output += c));
    let peak = 0;
    const timer = setInterval(() => (peak = Math.max(peak, treeRss(child.pid))), 10);
    child.on("exit", (code) => {
      clearInterval(timer);
      const seconds = (performance.now() - t0) / 1000;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(" ")} exited ${code}:\n${output.slice(-2000)}`));
      else resolvePromise({ seconds, peak });
    });
  });
}

/** Removes what every side committed (outside the timed part). */
function cleanImages() {
  const ids = sh("docker", ["images", "-q", "--filter", "label=bench.run"]).split("\n").filter(Boolean);
  if (ids.length) execFileSync("docker", ["rmi", "-f", ...new Set(ids)], { stdio: "ignore" });
}

const commands = {
  imgc: (s) => [process.execPath, [join(repo, "bin", "imgc.js"), "apply", join(here, `${s}.ts`), "--force"], repo],
  packer: (s) => ["packer", ["build", "-color=false", `${s}.json`], scratch],
  floor: (s) => ["bash", [`raw-${s}.sh`], scratch],
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const results = {};
for (const s of scenarios) {
  results[s] = Object.fromEntries(sides.map((side) => [side, []]));
  for (let round = -1; round < runs; round++) {
    for (const side of sides) {
      cleanImages();
      const [cmd, args, cwd] = commands[side](s);
      const r = await measure(cmd, args, cwd);
      if (round >= 0) results[s][side].push(r);
      process.stderr.write(`${s} ${side} ${round < 0 ? "warm-up" : `run ${round + 1}`}: ${r.seconds.toFixed(2)} s, ${(r.peak / 2 ** 20).toFixed(0)} MiB\n`);
    }
  }
  cleanImages();
}

// --- report ------------------------------------------------------------------------------------
const fmt = (x, d = 2) => (x === undefined ? "–" : x.toFixed(d));
const lines = [
  `| scenario | imgc s | Packer s | floor s | imgc/Packer | imgc/floor | imgc RSS MiB | Packer RSS MiB | floor RSS MiB |`,
  `|---|---|---|---|---|---|---|---|---|`,
];
for (const s of scenarios) {
  const m = (side, f) => (results[s][side]?.length ? median(results[s][side].map(f)) : undefined);
  const t = (side) => m(side, (r) => r.seconds);
  const rss = (side) => m(side, (r) => r.peak / 2 ** 20);
  lines.push(
    `| ${s} | ${fmt(t("imgc"))} | ${fmt(t("packer"))} | ${fmt(t("floor"))} | ${t("imgc") && t("packer") ? fmt(t("imgc") / t("packer")) : "–"} | ${t("imgc") && t("floor") ? fmt(t("imgc") / t("floor")) : "–"} | ${fmt(rss("imgc"), 0)} | ${fmt(rss("packer"), 0)} | ${fmt(rss("floor"), 0)} |`,
  );
}
const table = lines.join("\n");
console.log(`\n${runs} runs each after a warm-up, interleaved; medians.\n\n${table}`);
writeFileSync(join(out, "docker-bench.md"), `${table}\n`);
writeFileSync(join(out, "docker-bench.json"), JSON.stringify(results, null, 2));
