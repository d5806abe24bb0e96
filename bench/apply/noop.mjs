#!/usr/bin/env node
// Benchmark: a no-op `imgc apply` on a 100-image project whose artifacts are all up to date.
// Goal: under 1 s wall. Prints the wall time of each run, the median, and the floor (a bare
// `node` start) for comparison.
//
//   node bench/apply/noop.mjs [--images 100] [--runs 7] [--platform dirtree|null]
//
// Platform: `dirtree` (examples/plugin, a file: dependency, built locally: no server needed), or
// `null` (every image provisions one host: a real sshd this script starts on a loopback port
// with its own host key, logging in with a throwaway key as a throwaway alias of root (uid 0,
// shell /bin/sh, home in the temp dir: root's own dotfiles, which may be slow, never run; the
// alias is deleted at exit; run as root).
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";

const repo = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const images = Number(arg("images", 100));
const runs = Number(arg("runs", 7));
const platform = arg("platform", "dirtree");
if (platform !== "dirtree" && platform !== "null") {
  console.error(`--platform ${platform}: use dirtree or null`);
  process.exit(2);
}

/** Starts sshd on a free loopback port; returns its port, user, client key and a stop function. */
async function startSshd(dir) {
  // sshd refuses to start without its privilege separation directory.
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const user = `imgcb${process.pid}`;
  execFileSync("useradd", ["-o", "-u", "0", "-g", "0", "-p", "*", "-M", "-d", dir, "-s", "/bin/sh", user], { stdio: "pipe" });
  const removeUser = () => {
    try {
      // -f: a uid-0 alias always "has processes".
      execFileSync("userdel", ["-f", user], { stdio: "pipe" });
    } catch {}
  };
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_key")]);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "client_key")]);
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "client_key.pub")));
  const port = 20000 + Math.floor(Math.random() * 20000);
  writeFileSync(
    join(dir, "sshd_config"),
    [`Port ${port}`, "ListenAddress 127.0.0.1", `HostKey ${join(dir, "host_key")}`, `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
     `PidFile ${join(dir, "sshd.pid")}`, "StrictModes no", "PermitRootLogin prohibit-password", "UsePAM no", "MaxStartups 100:30:200", "MaxSessions 100", "Subsystem sftp internal-sftp"].join("\n") + "\n",
  );
  const sshd = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", join(dir, "sshd_config")], { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((resolve) => {
      const s = connect(port, "127.0.0.1", () => (s.destroy(), resolve(true)));
      s.on("error", () => resolve(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    sshd.kill("SIGTERM");
    removeUser();
  };
  return { port, user, key: join(dir, "client_key"), stop };
}

const dir = mkdtempSync(join(tmpdir(), "imgc-bench-noop-"));
writeFileSync(
  join(dir, "package.json"),
  JSON.stringify({ name: "bench", private: true, type: "module", dependencies: { imgc: `file:${repo}`, "imgc-plugin-dirtree": `file:${repo}/examples/plugin` } }),
);
const sshd = platform === "null" ? await startSshd(dir) : undefined;
// Never leave the server running, whatever happens below.
process.on("exit", () => sshd?.stop());
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(130));
const lines =
  platform === "null"
    ? [`import { image } from "imgc";`, `import { nullHost } from "imgc/platforms/null";`, `import { shell } from "imgc/provisioners";`, `export const all = [`]
    : [`import { image } from "imgc";`, `import { dirtree } from "imgc-plugin-dirtree";`, `export const all = [`];
for (let i = 0; i < images; i++) {
  if (sshd) {
    lines.push(`  image("img${i}", { platforms: [nullHost({ ssh: { host: "127.0.0.1", port: ${sshd.port}, username: ${JSON.stringify(sshd.user)}, privateKeyFile: ${JSON.stringify(sshd.key)} } })], provision: [shell({ inline: ["true"] })] }),`);
  } else lines.push(`  image("img${i}", { platforms: [dirtree({ files: { "etc/id": "image ${i}\\n" } })] }),`);
}
lines.push(`];`, `export default all;`);
writeFileSync(join(dir, "images.ts"), lines.join("\n") + "\n");
execFileSync("npm", ["install", "--no-audit", "--no-fund", "--offline", "--ignore-scripts"], { cwd: dir, stdio: "ignore" });

const bin = join(repo, "bin", "imgc.js");
const env = { ...process.env, CI: "1" };
const time = (args) => {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: dir, env, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return { ms, out: r.stdout };
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const first = time([bin, "apply", "images.ts", "--parallelism", "8"]);
console.log(`first apply (${images} images built with ${platform}): ${(first.ms / 1000).toFixed(2)} s`);
const noop = [];
for (let i = 0; i < runs; i++) {
  const r = time([bin, "apply", "images.ts"]);
  if (!r.out.includes(`0 built, ${images} up to date`)) throw new Error(`not a no-op:\n${r.out.slice(-500)}`);
  noop.push(r.ms);
}
// Where the time goes: the same no-op in one process, split into compile and apply.
const phaseScript = `
  const t0 = performance.now();
  const { compileProject } = await import(${JSON.stringify(`${repo}/dist/compiler/index.js`)});
  const c = await compileProject({ file: "images.ts" });
  const t1 = performance.now();
  const { apply } = await import(${JSON.stringify(`${repo}/dist/runtime/apply.js`)});
  const { EventBus } = await import(${JSON.stringify(`${repo}/dist/runtime/events.js`)});
  const { Redactor } = await import(${JSON.stringify(`${repo}/dist/runtime/redact.js`)});
  const r = new Redactor();
  const res = await apply(c.graph, { bus: new EventBus(r), redactor: r });
  const t2 = performance.now();
  if (res.exitCode !== 0) process.exit(1);
  console.log(JSON.stringify({ compile: t1 - t0, apply: t2 - t1 }));`;
const phases = [];
for (let i = 0; i < runs; i++) {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", phaseScript], { cwd: dir, env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`phase run failed: ${r.stderr}`);
  phases.push(JSON.parse(r.stdout));
}
const floor = [];
for (let i = 0; i < runs; i++) floor.push(time(["-e", ""]).ms);
const m = median(noop);
console.log(`load average before the no-op runs: ${loadavg().map((x) => x.toFixed(1)).join(" ")} (the machine is shared; figures scale with it)`);
console.log(`no-op apply, ${images} images up to date (${platform}), ${runs} runs: ${noop.map((x) => x.toFixed(0)).join(", ")} ms`);
console.log(`  median ${m.toFixed(0)} ms (goal < 1000 ms: ${m < 1000 ? "met" : "NOT met"})`);
console.log(`  in one process (median): import + compile ${median(phases.map((p) => p.compile)).toFixed(0)} ms, runtime (lock, plan with ${images} exists() checks, state) ${median(phases.map((p) => p.apply)).toFixed(0)} ms`);
console.log(`  floor: bare node start median ${median(floor).toFixed(0)} ms; ratio ${(m / median(floor)).toFixed(1)}x`);
sshd?.stop();
if (process.argv.includes("--keep")) console.log(`project kept in ${dir}`);
else rmSync(dir, { recursive: true, force: true });
