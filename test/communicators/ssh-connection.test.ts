import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTemporaryKey } from "../../runtime/communicators/temp-key.js";
import { commFor } from "../support/ssh-comm.js";
import { startSshd, type TestSshd } from "../support/sshd.js";

const never = new AbortController().signal;
let target: TestSshd;
let jump: TestSshd;
let work: string;

beforeAll(async () => {
  [target, jump] = await Promise.all([startSshd({ passwordUser: true }), startSshd()]);
  work = mkdtempSync(join(tmpdir(), "imgc-sshconn-"));
});
afterAll(async () => {
  await Promise.all([target?.stop(), jump?.stop()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

async function whoami(c: ReturnType<typeof commFor>): Promise<string> {
  let out = "";
  await c.exec({ command: "id -un", onStdout: (d) => (out += d) }, never);
  return out.trim();
}

describe("authentication", () => {
  it("logs in with a password", async () => {
    const { username, password } = target.passwordUser!;
    const c = commFor(target, { username, password, privateKey: undefined });
    await c.connect(never);
    expect(await whoami(c)).toBe(username);
    await c.close();
  });

  it("refuses a wrong password after its timeout", async () => {
    const { username } = target.passwordUser!;
    const c = commFor(target, { username, password: "wrong", privateKey: undefined, timeoutMs: 5000 });
    await expect(c.connect(never)).rejects.toThrow(/authentication methods failed/);
  });

  it("uses a temporary ed25519 key (0600, deleted after)", async () => {
    const key = await createTemporaryKey(work);
    expect(statSync(key.path).mode & 0o777).toBe(0o600);
    target.authorize(key.publicKeyLine);
    const c = commFor(target, { privateKey: key.privateKey });
    await c.connect(never);
    expect(await whoami(c)).toBe("root");
    await c.close();
    await key.dispose();
    expect(existsSync(key.path)).toBe(false);
    await key.dispose();
  });

  it("uses an SSH agent", async () => {
    const sock = join(work, "agent.sock");
    const agent: ChildProcess = spawn("ssh-agent", ["-D", "-a", sock], { stdio: "ignore" });
    try {
      for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
      execFileSync("ssh-add", [target.clientKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: "ignore" });
      const c = commFor(target, { privateKey: undefined, agent: sock });
      await c.connect(never);
      expect(await whoami(c)).toBe("root");
      await c.close();
    } finally {
      agent.kill();
    }
  });
});

describe("bastion", () => {
  it("reaches the machine through a jump host (and checks both host keys)", async () => {
    const bastion = { host: jump.host, port: jump.port, username: jump.user, privateKey: jump.clientKey, hostKey: jump.hostKeyFingerprint };
    const c = commFor(target, { bastion, hostKey: target.hostKeyLine });
    await c.connect(never);
    expect(await whoami(c)).toBe("root");
    await c.upload(join(work, "via-bastion"), Buffer.from("hop"), {}, never);
    expect(statSync(join(work, "via-bastion")).size).toBe(3);
    await c.close();
    const bad = commFor(target, { bastion: { ...bastion, hostKey: target.hostKeyFingerprint } });
    await expect(bad.connect(never)).rejects.toThrow(/host key of 127\.0\.0\.1:\d+ is .*refusing/);
  });
});

describe("reconnect", () => {
  it("notices a restart of the server and reconnects", async () => {
    const c = commFor(target);
    await c.connect(never);
    const running = c.exec({ command: "sleep 30" }, never);
    await new Promise((r) => setTimeout(r, 300));
    await target.restart();
    expect(await running).toMatchObject({ exitCode: null, disconnected: true });
    await c.reconnect(never);
    expect(await whoami(c)).toBe("root");
    await c.close();
  });

  it("accept-new holds the first key across reconnects: a reinstalled machine is refused", async () => {
    const solo = await startSshd();
    try {
      const c = commFor(solo);
      await c.connect(never);
      const first = c.hostKeyFingerprint;
      await solo.rekey();
      await expect(c.reconnect(never)).rejects.toThrow(new RegExp(`is SHA256:.*but ${first!.replace(/[+/]/g, "\\$&")} was expected`));
    } finally {
      await solo.stop();
    }
  });

  it("waits for the SSH banner behind a port forward that accepts before the guest listens", async () => {
    let guestUp = false;
    const forward = createServer((sock) => {
      if (!guestUp) return sock.destroy();
      const up = connect(target.port, target.host);
      sock.pipe(up).pipe(sock);
      up.on("error", () => sock.destroy());
      sock.on("error", () => up.destroy());
    });
    await new Promise<void>((r) => forward.listen(0, "127.0.0.1", r));
    try {
      const logs: string[] = [];
      const port = (forward.address() as { port: number }).port;
      const c = commFor({ ...target, port } as TestSshd, {}, logs);
      setTimeout(() => (guestUp = true), 1200);
      await c.connect(never);
      expect(await whoami(c)).toBe("root");
      expect(logs.join("\n")).toMatch(/closed the connection before sending an SSH banner/);
      await c.close();
    } finally {
      forward.close();
    }
  });

  it("waits for a server that is not up yet", async () => {
    await target.kill();
    const c = commFor(target);
    const connecting = c.connect(never);
    setTimeout(() => void target.start(), 800);
    await connecting;
    expect(await whoami(c)).toBe("root");
    await c.close();
  });

  it("aborts the wait on signal", async () => {
    await target.kill();
    try {
      const ac = new AbortController();
      const c = commFor(target, { timeoutMs: 60_000 });
      setTimeout(() => ac.abort(new Error("cancelled by test")), 300);
      await expect(c.connect(ac.signal)).rejects.toThrow("cancelled by test");
    } finally {
      await target.start();
    }
  });
});
