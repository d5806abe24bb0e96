import { createHash, randomBytes } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SshCommunicator } from "../../runtime/communicators/ssh.js";
import { commFor } from "../support/ssh-comm.js";
import { startSshd, type TestSshd } from "../support/sshd.js";

const never = new AbortController().signal;
let sshd: TestSshd;
let comm: SshCommunicator;
let work: string;

beforeAll(async () => {
  sshd = await startSshd();
  work = mkdtempSync(join(tmpdir(), "imgc-ssh-test-"));
  comm = commFor(sshd);
  await comm.connect(never);
});
afterAll(async () => {
  await comm?.close();
  await sshd?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function run(c: SshCommunicator, command: string, env?: Record<string, string>) {
  let out = "";
  let err = "";
  const res = await c.exec({ command, ...(env ? { env } : {}), onStdout: (d) => (out += d), onStderr: (d) => (err += d) }, never);
  return { ...res, out, err };
}

const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

describe("ssh exec", () => {
  it("streams stdout and stderr and returns the exit code", async () => {
    const r = await run(comm, "echo out; echo err >&2; exit 7");
    expect(r).toMatchObject({ exitCode: 7, out: "out\n", err: "err\n" });
  });

  it("passes hostile env values intact", async () => {
    const hostile = {
      SUBST: "$(touch /tmp/imgc-pwned) `touch /tmp/imgc-pwned2`",
      QUOTES: `it's "quoted" \\ back'slash'`,
      NEWLINES: "line1\nline2\n; echo injected",
      EMPTY: "",
    };
    const r = await run(comm, 'printf "%s\\0" "$SUBST" "$QUOTES" "$NEWLINES" "$EMPTY"', hostile);
    expect(r.exitCode).toBe(0);
    expect(r.out.split("\0").slice(0, 4)).toEqual(Object.values(hostile));
    expect(existsSync("/tmp/imgc-pwned") || existsSync("/tmp/imgc-pwned2")).toBe(false);
  });

  it("refuses env names that are not shell names", async () => {
    await expect(run(comm, "true", { "A;rm": "x" })).rejects.toThrow(/not valid/);
  });

  it("feeds stdin and honours workdir", async () => {
    const r = await comm.exec({ command: "pwd; cat", workdir: "/usr", stdin: "hello" }, never);
    expect(r.exitCode).toBe(0);
    let out = "";
    await comm.exec({ command: "pwd; cat", workdir: "/usr", stdin: "hello", onStdout: (d) => (out += d) }, never);
    expect(out).toBe("/usr\nhello");
  });

  it("kills the remote command on abort", async () => {
    const ac = new AbortController();
    const marker = join(work, "abort-pid");
    const p = comm.exec({ command: `echo $$ > ${marker}; exec sleep 60` }, ac.signal);
    while (!existsSync(marker) || readFileSync(marker, "utf8").trim() === "") await new Promise((r) => setTimeout(r, 50));
    ac.abort(new Error("stop"));
    await expect(p).rejects.toThrow("stop");
    const pid = Number(readFileSync(marker, "utf8"));
    // The process is gone (signal request honoured by OpenSSH).
    for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    // The session still works afterwards.
    expect((await run(comm, "echo ok")).out).toBe("ok\n");
  });
});

describe("ssh transfers", () => {
  it("uploads a 64 MiB file and downloads it back, checksums equal", async () => {
    const src = join(work, "big.bin");
    writeFileSync(src, randomBytes(64 * 1024 * 1024));
    const remote = join(work, "big-remote.bin");
    await comm.upload(remote, src, { mode: 0o640 }, never);
    expect(sha(remote)).toBe(sha(src));
    expect(statSync(remote).mode & 0o777).toBe(0o640);
    const back = join(work, "big-back.bin");
    await comm.download(remote, back, never);
    expect(sha(back)).toBe(sha(src));
  });

  it("uploads buffers and streams with a mode", async () => {
    const remote = join(work, "buf.txt");
    await comm.upload(remote, Buffer.from("from a buffer"), { mode: 0o600 }, never);
    expect(readFileSync(remote, "utf8")).toBe("from a buffer");
    expect(statSync(remote).mode & 0o777).toBe(0o600);
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const remote2 = join(work, "stream.bin");
    await comm.upload(remote2, Readable.from([data.subarray(0, 1000), data.subarray(1000)]), {}, never);
    expect(readFileSync(remote2).equals(data)).toBe(true);
    const empty = join(work, "empty");
    await comm.upload(empty, Buffer.alloc(0), {}, never);
    expect(statSync(empty).size).toBe(0);
  });

  it("says which path failed", async () => {
    await expect(comm.upload("/nonexistent-dir/x", Buffer.from("x"), {}, never)).rejects.toThrow(/\/nonexistent-dir\/x/);
  });

  for (const mode of ["tar", "sftp"] as const) {
    it(`uploads and downloads a 200-file directory with modes (${mode})`, async () => {
      const src = join(work, `tree-${mode}`);
      mkdirSync(join(src, "sub", "deeper"), { recursive: true });
      mkdirSync(join(src, "empty"));
      const sums = new Map<string, string>();
      for (let i = 0; i < 200; i++) {
        const rel = i % 3 === 0 ? `sub/f${i}` : i % 3 === 1 ? `sub/deeper/f${i}` : `f${i}`;
        const data = randomBytes(4096);
        writeFileSync(join(src, rel), data, { mode: i === 5 ? 0o755 : 0o644 });
        sums.set(rel, createHash("sha256").update(data).digest("hex"));
      }
      symlinkSync("f2", join(src, "link"));
      const c = commFor(sshd);
      c.tarForDirectories = mode === "tar";
      await c.connect(never);
      try {
        const dest = join(work, `up-${mode}`);
        mkdirSync(dest);
        // Without a trailing slash the directory itself lands inside the destination.
        await c.uploadDir(dest, src, {}, never);
        const landed = join(dest, `tree-${mode}`);
        for (const [rel, sum] of sums) expect(sha(join(landed, rel)), rel).toBe(sum);
        expect(statSync(join(landed, "f5")).mode & 0o777).toBe(0o755);
        expect(statSync(join(landed, "empty")).isDirectory()).toBe(true);
        // With a trailing slash the contents land in the destination.
        const dest2 = join(work, `up2-${mode}`);
        await c.uploadDir(dest2, src + "/", {}, never);
        expect(readdirSync(dest2).sort()).toEqual(readdirSync(src).sort());
        // And back.
        const down = join(work, `down-${mode}`);
        await c.downloadDir(landed + "/", down, never);
        for (const [rel, sum] of sums) expect(sha(join(down, rel)), rel).toBe(sum);
        expect(statSync(join(down, "f5")).mode & 0o777).toBe(0o755);
      } finally {
        await c.close();
      }
    });
  }

  it("sets the owner", async () => {
    const remote = join(work, "owned");
    await comm.upload(remote, Buffer.from("x"), { owner: "nobody" }, never);
    expect(statSync(remote).uid).not.toBe(0);
  });
});

describe("ssh connection", () => {
  it("refuses a wrong pinned host key, and accepts the right one by key or fingerprint", async () => {
    const wrong = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    await expect(commFor(sshd, { hostKey: wrong }).connect(never)).rejects.toThrow(/host key of 127\.0\.0\.1:\d+ is SHA256:.*refusing/);
    await expect(commFor(sshd, { hostKey: "SHA256:" + "A".repeat(43) }).connect(never)).rejects.toThrow(/refusing/);
    for (const hostKey of [sshd.hostKeyLine, sshd.hostKeyFingerprint]) {
      const c = commFor(sshd, { hostKey });
      await c.connect(never);
      expect(c.hostKeyFingerprint).toBe(sshd.hostKeyFingerprint);
      await c.close();
    }
  });

  it("accept-new logs the fingerprint", async () => {
    const logs: string[] = [];
    const c = commFor(sshd, {}, logs);
    await c.connect(never);
    await c.close();
    expect(logs.join("\n")).toContain(`accepted host key of 127.0.0.1:${sshd.port} on first use: ${sshd.hostKeyFingerprint}`);
  });

  it("fails after its timeout with the last reason when nothing listens", async () => {
    const c = commFor({ ...sshd, port: 1 } as TestSshd, { timeoutMs: 1500 });
    await expect(c.connect(never)).rejects.toThrow(/could not open an SSH session to \w+@127\.0\.0\.1:1 within .*ECONNREFUSED/);
  });

  it("fails when the key is not authorized", async () => {
    const { privateKey } = (await import("../../runtime/communicators/temp-key.js")).generateEd25519();
    const c = commFor(sshd, { privateKey, timeoutMs: 1500 });
    await expect(c.connect(never)).rejects.toThrow(/authentication methods failed/);
  });
});
