import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SshCommunicator } from "../../runtime/communicators/ssh.js";
import { fileProvisioner as file, type FileRuntimeOptions } from "../../runtime/provisioners/file.js";
import { provCtx } from "../support/prov-ctx.js";
import { commFor } from "../support/ssh-comm.js";
import { startSshd, type TestSshd } from "../support/sshd.js";

const never = new AbortController().signal;
let sshd: TestSshd;
let comm: SshCommunicator;
let work: string;
let payload: string;
const sums = new Map<string, string>();
const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");

beforeAll(async () => {
  sshd = await startSshd();
  work = mkdtempSync(join(tmpdir(), "imgc-file-"));
  // The bench's payload shape: 200 files of 4 KiB and one of 64 MiB.
  payload = join(work, "payload");
  mkdirSync(join(payload, "small"), { recursive: true });
  for (let i = 0; i < 200; i++) {
    const data = randomBytes(4096);
    writeFileSync(join(payload, "small", `f${i}`), data, { mode: i === 0 ? 0o700 : 0o644 });
    sums.set(`small/f${i}`, sha(data));
  }
  const big = randomBytes(64 * 1024 * 1024);
  writeFileSync(join(payload, "big.bin"), big);
  sums.set("big.bin", sha(big));
  comm = commFor(sshd);
  await comm.connect(never);
});
afterAll(async () => {
  await comm?.close();
  await sshd?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const run = (o: FileRuntimeOptions) => file.run(o, provCtx(comm, work), never);
const marker = (abs: string) => ({ $path: abs, rel: abs.slice(work.length + 1) });
function expectTree(dir: string) {
  for (const [rel, sum] of sums) expect(sha(readFileSync(join(dir, rel))), rel).toBe(sum);
  expect(statSync(join(dir, "small/f0")).mode & 0o777).toBe(0o700);
}

describe("file provisioner", () => {
  it("uploads a directory itself, or its contents with the trailing-slash rule, and downloads it back", async () => {
    const dest = join(work, "remote-a");
    mkdirSync(dest);
    await run({ direction: "upload", source: marker(payload), destination: dest });
    expect(readdirSync(dest)).toEqual(["payload"]);
    expectTree(join(dest, "payload"));

    const dest2 = join(work, "remote-b");
    await run({ direction: "upload", source: marker(payload), destination: dest2, contents: true });
    expect(readdirSync(dest2).sort()).toEqual(["big.bin", "small"]);
    expectTree(dest2);

    const dest3 = join(work, "remote-c");
    await run({ direction: "upload", source: { $path: payload + "/", rel: "payload/" }, destination: dest3 });
    expectTree(dest3);

    const down = join(work, "downloaded");
    await run({ direction: "download", source: dest2 + "/", destination: marker(down) });
    expectTree(down);
  });

  it("uploads one file with a mode and owner, into a directory when the destination ends in /", async () => {
    const src = join(payload, "small", "f1");
    const dir = join(work, "remote-files");
    mkdirSync(dir);
    await run({ direction: "upload", source: marker(src), destination: dir + "/", mode: 0o600, owner: "nobody" });
    const landed = join(dir, "f1");
    expect(sha(readFileSync(landed))).toBe(sums.get("small/f1"));
    expect(statSync(landed).mode & 0o777).toBe(0o600);
    expect(statSync(landed).uid).not.toBe(0);
  });

  it("downloads one file, into a directory when the destination is one", async () => {
    const local = join(work, "dl");
    mkdirSync(local);
    await run({ direction: "download", source: join(payload, "big.bin"), destination: marker(local + "/") });
    expect(sha(readFileSync(join(local, "big.bin")))).toBe(sums.get("big.bin"));
    await run({ direction: "download", source: join(payload, "small", "f2"), destination: marker(join(local, "renamed")) });
    expect(sha(readFileSync(join(local, "renamed")))).toBe(sums.get("small/f2"));
  });

  it("writes content from a string with a mode", async () => {
    const dest = join(work, "content.txt");
    await run({ direction: "content", content: "line 1\n$(not expanded) 'quoted'\n", destination: dest, mode: 0o640 });
    expect(readFileSync(dest, "utf8")).toBe("line 1\n$(not expanded) 'quoted'\n");
    expect(statSync(dest).mode & 0o777).toBe(0o640);
  });

  it("names what is wrong", async () => {
    await expect(run({ direction: "upload", source: marker(join(work, "missing")), destination: "/tmp/x" })).rejects.toThrow(/source .*missing does not exist/);
    await expect(run({ direction: "content", content: "x", destination: "/nonexistent-dir/x" })).rejects.toThrow(/\/nonexistent-dir\/x failed: no such file/);
    await expect(run({ direction: "content", content: "x", destination: "/tmp/x", mode: 0o77777 })).rejects.toThrow(/mode must be/);
    await expect(run({ direction: "sideways" } as never)).rejects.toThrow(/direction must be/);
  });
});
