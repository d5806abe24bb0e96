#!/usr/bin/env node
// Measures the per-call cost of the two ways imgc could talk to dockerd: the Engine API over
// the unix socket (dockerode, one connection pool in this process) and the docker CLI (one
// process per call). Usage: node bench/docker/engine-vs-cli.mjs [image] [calls]
// Prints the median per call of: exec of `true`, image inspect, and a small file copy-in.
import Docker from "dockerode";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pack } from "tar-stream";

const image = process.argv[2] ?? "imgc-test/busybox:1";
const calls = Number(process.argv[3] ?? 20);
const docker = new Docker();
const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
async function timeIt(fn) {
  const out = [];
  for (let i = 0; i < calls; i++) { const t = performance.now(); await fn(i); out.push(performance.now() - t); }
  return median(out).toFixed(1);
}
const c = await docker.createContainer({ Image: image, Cmd: ["/bin/sh"], Tty: true, OpenStdin: true, HostConfig: { NetworkMode: "none" }, Labels: { "imgc.bench": "1" } });
await c.start();
try {
  const apiExec = await timeIt(async () => {
    const e = await c.exec({ Cmd: ["/bin/sh", "-c", "true"], AttachStdout: true, AttachStderr: true });
    const s = await e.start({ hijack: true, stdin: false });
    await new Promise((r) => { s.on("end", r); s.resume(); });
    const info = await e.inspect();
    if (info.ExitCode !== 0) throw new Error("exit " + info.ExitCode);
  });
  const cliExec = await timeIt(() => execFileSync("docker", ["exec", c.id, "/bin/sh", "-c", "true"]));
  const apiInspect = await timeIt(() => docker.getImage(image).inspect());
  const cliInspect = await timeIt(() => execFileSync("docker", ["image", "inspect", image]));
  const dir = mkdtempSync(join(tmpdir(), "imgc-bench-"));
  writeFileSync(join(dir, "f"), "x".repeat(4096));
  const apiCopy = await timeIt(async (i) => {
    const p = pack(); p.entry({ name: `f${i}`, size: 4096 }, "x".repeat(4096)); p.finalize();
    await c.putArchive(p, { path: "/tmp" });
  });
  const cliCopy = await timeIt((i) => execFileSync("docker", ["cp", join(dir, "f"), `${c.id}:/tmp/g${i}`]));
  console.log(`per call, median of ${calls} (ms):`);
  console.log(`exec          engine API ${apiExec}   CLI ${cliExec}`);
  console.log(`image inspect engine API ${apiInspect}   CLI ${cliInspect}`);
  console.log(`copy 4 KiB in engine API ${apiCopy}   CLI ${cliCopy}`);
} finally {
  await c.remove({ force: true });
}
