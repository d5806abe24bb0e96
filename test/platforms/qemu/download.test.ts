/**
 * ISO downloads: a wrong checksum fails in the download step, before any VM starts (the
 * backend's `start` is never called); http(s) downloads land in the cache keyed by checksum,
 * resume a partial file with a Range request, and are verified; `file:` checksum files work.
 * A real local HTTP server (127.0.0.1) serves the bytes.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { QemuBackend } from "../../../runtime/platforms/qemu/backend.js";
import { processBackend } from "../../../runtime/platforms/qemu/backend-process.js";
import { qemuDriver } from "../../../runtime/platforms/qemu/driver.js";
import type { QemuOptions } from "../../../runtime/platforms/qemu/factory.js";
import { removeWorkDir, runDriver } from "./harness.js";

let dir: string;
let server: Server;
let port: number;
const iso = Buffer.alloc(300_000, 7);
iso.write("imgc test iso", 0);
const sha = createHash("sha256").update(iso).digest("hex");
const requests: { range?: string }[] = [];

/** The real backend, counting VM starts. */
function counting(): { backend: QemuBackend; starts: number[] } {
  const real = processBackend();
  const starts: number[] = [];
  return {
    starts,
    backend: { ...real, probe: real.probe, start: (spec, signal) => (starts.push(1), real.start(spec, signal)), img: real.img.bind(real), diskInfo: real.diskInfo },
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "imgc-qemu-dl-"));
  await writeFile(join(dir, "local.iso"), iso);
  await writeFile(join(dir, "SHA256SUMS"), `${"0".repeat(64)}  other.iso\n${sha}  debian.iso\n`);
  server = createServer((req, res) => {
    requests.push({ range: req.headers.range });
    if (req.url === "/SHA256SUMS") {
      const body = `${sha} *debian.iso\n`;
      res.writeHead(200, { "content-length": Buffer.byteLength(body) });
      return res.end(body);
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    if (m) {
      const from = Number(m[1]);
      res.writeHead(206, { "content-range": `bytes ${from}-${iso.length - 1}/${iso.length}`, "content-length": iso.length - from });
      return res.end(iso.subarray(from));
    }
    res.writeHead(200, { "content-length": iso.length });
    res.end(iso);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  if (dir) await rm(dir, { recursive: true, force: true });
});

function isoOptions(extra: Partial<QemuOptions>): QemuOptions {
  return { communicator: "none", accelerator: "tcg", cacheDirectory: join(dir, "cache"), outputDirectory: "out", ...extra } as QemuOptions;
}

describe("ISO download", () => {
  it("fails on a wrong checksum before any VM starts, leaving nothing", async () => {
    const { backend, starts } = counting();
    const r = await runDriver(qemuDriver(() => backend), {
      image: "bad",
      projectRoot: dir,
      options: isoOptions({ isoUrl: `file://${join(dir, "local.iso")}`, isoChecksum: `sha256:${"1".repeat(64)}` }),
    });
    expect(r.outcome).toBe("failed");
    expect(r.error!.message).toMatch(/has sha256 [0-9a-f]{64}, but the checksum says 1{64}; refusing to use it/);
    expect(starts).toEqual([]);
    expect(r.cleaned).toEqual(["download"]);
    expect(await readdir(r.workDir)).toEqual([]);
    await removeWorkDir(r);
  }, 600_000);

  it("downloads over HTTP into the cache keyed by checksum, resuming a partial file", async () => {
    const { backend } = counting();
    const cache = join(dir, "cache");
    const dest = join(cache, `sha256-${sha}.iso`);
    await rm(cache, { recursive: true, force: true });
    await import("node:fs/promises").then((fs) => fs.mkdir(cache, { recursive: true }));
    await writeFile(`${dest}.part`, iso.subarray(0, 100_000));
    requests.length = 0;
    const driver = qemuDriver(() => backend);
    const ctx = await driver.createContext((await envFor(isoOptions({ isoUrl: `http://127.0.0.1:${port}/debian.iso`, isoChecksum: `file:http://127.0.0.1:${port}/SHA256SUMS` }))) as never);
    const download = driver.steps(ctx)[0] as { name: string; run: (c: unknown, s: AbortSignal) => Promise<void> };
    expect(download.name).toBe("download");
    await download.run(ctx, new AbortController().signal);
    expect(ctx.iso).toBe(dest);
    expect(await readFile(dest)).toEqual(iso);
    expect(requests.map((q) => q.range)).toEqual([undefined, "bytes=100000-"]); // checksum file, then the resumed ISO
    // A second build uses the cache: no request for the ISO.
    requests.length = 0;
    await download.run(ctx, new AbortController().signal);
    expect(requests.map((q) => q.range)).toEqual([undefined]);
  }, 600_000);

  it("refuses a download whose bytes do not match, and keeps nothing in the cache", async () => {
    const { backend, starts } = counting();
    const cache = join(dir, "cache-bad");
    const r = await runDriver(qemuDriver(() => backend), {
      image: "bad2",
      projectRoot: dir,
      options: isoOptions({ cacheDirectory: cache, isoUrl: `http://127.0.0.1:${port}/debian.iso`, isoChecksum: `md5:${"a".repeat(32)}` }),
    });
    expect(r.error!.message).toMatch(/refusing to use it/);
    expect(starts).toEqual([]);
    expect(await readdir(cache)).toEqual([]);
    await removeWorkDir(r);
  }, 600_000);

  it("needs a checksum for remote downloads, and finds the file's line in a local checksum file", async () => {
    const { backend } = counting();
    const r = await runDriver(qemuDriver(() => backend), { image: "nosum", projectRoot: dir, options: isoOptions({ isoUrl: `http://127.0.0.1:${port}/debian.iso`, isoChecksum: "none" }) });
    expect(r.error!.message).toMatch(/isoChecksum is needed to download/);
    await removeWorkDir(r);
    const driver = qemuDriver(() => backend);
    const ctx = await driver.createContext((await envFor(isoOptions({ isoUrl: `http://127.0.0.1:${port}/debian.iso`, isoChecksum: "file:SHA256SUMS" }))) as never);
    const download = driver.steps(ctx)[0] as { run: (c: unknown, s: AbortSignal) => Promise<void> };
    await download.run(ctx, new AbortController().signal);
    expect(ctx.iso).toContain(sha);
  }, 600_000);
});

async function envFor(options: QemuOptions) {
  return {
    resolved: { node: { id: "t.qemu", image: "t", source: { kind: "base" } }, options, upstream: {} },
    projectRoot: dir,
    workDir: dir,
    log: { log: () => {}, output: () => {}, track: () => {}, untrack: () => {} },
    redact: () => {},
    facts: {},
    runId: "r",
  };
}
