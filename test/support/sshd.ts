/**
 * A real OpenSSH server for tests: `/usr/sbin/sshd -D` on a free loopback port, with its own
 * host key, an authorized client key and a config in a temporary directory. It can be stopped
 * and restarted mid-test on the same port (a "reboot": every session it served is killed too).
 *
 * Runs as root (CI and this machine do). Logins use `user`: a throwaway alias of root (uid 0,
 * made with `useradd -o -u 0`) whose shell is /bin/sh and whose home is the temp dir, so the
 * host's root dotfiles (a slow `.bashrc`) never run in tests; it has root's powers, which
 * tests need to look at what landed. Password authentication uses a second throwaway user
 * (`passwordUser: true`, `useradd` + `chpasswd`). Both are deleted by `stop()`.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Options of `startSshd`. */
export interface SshdOptions {
  /** Create a throwaway user with a password for password authentication. @default false */
  readonly passwordUser?: boolean;
  /** Extra sshd_config lines. */
  readonly extraConfig?: readonly string[];
}

/** A running test sshd. */
export interface TestSshd {
  readonly host: "127.0.0.1";
  readonly port: number;
  /** The temp dir holding keys and config. */
  readonly dir: string;
  /** The user to log in as with the client key (uid 0, shell /bin/sh). */
  readonly user: string;
  /** Private key (OpenSSH format) authorized for `user`. */
  readonly clientKeyPath: string;
  readonly clientKey: string;
  /** The server's host public key line (`ssh-ed25519 AAAA…`) and its SHA256 fingerprint. */
  readonly hostKeyLine: string;
  readonly hostKeyFingerprint: string;
  /** The password user, when asked for. */
  readonly passwordUser?: { readonly username: string; readonly password: string };
  /** Adds a public key line to the authorized keys. */
  authorize(publicKeyLine: string): void;
  /** Kills the server and every session it serves, as a reboot would. */
  kill(): Promise<void>;
  /** Starts it again on the same port (after `kill`). */
  start(): Promise<void>;
  /** Kills it, restarts it. */
  restart(): Promise<void>;
  /** Replaces the host key (a reinstalled machine) and restarts. */
  rekey(): Promise<void>;
  /** Stops it and removes its files (and the password user). Idempotent. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Starts a real sshd; call `stop()` in afterAll. */
export async function startSshd(options: SshdOptions = {}): Promise<TestSshd> {
  const dir = mkdtempSync(join(tmpdir(), "imgc-sshd-"));
  // sshd refuses to start without its privilege separation directory.
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const keygen = (file: string) => execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "imgc-test", "-f", file]);
  keygen(join(dir, "host_ed25519"));
  keygen(join(dir, "client_ed25519"));
  const clientPub = readFileSync(join(dir, "client_ed25519.pub"), "utf8");
  writeFileSync(join(dir, "authorized_keys"), clientPub, { mode: 0o600 });
  const hostKeyLine = readFileSync(join(dir, "host_ed25519.pub"), "utf8").trim().split(" ").slice(0, 2).join(" ");
  const hostKeyFingerprint = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", join(dir, "host_ed25519.pub")], { encoding: "utf8" }).split(" ")[1]!;

  const users: string[] = [];
  const rootHome = join(dir, "root-home");
  mkdirSync(rootHome);
  const user = `imgcr${randomBytes(3).toString("hex")}`;
  await addUser(["-o", "-u", "0", "-g", "0", "-p", "*", "-M", "-d", rootHome, "-s", "/bin/sh", user]);
  users.push(user);
  let passwordUser: { username: string; password: string } | undefined;
  try {
    if (options.passwordUser) {
      const username = `imgct${randomBytes(3).toString("hex")}`;
      const password = `pw-${randomBytes(9).toString("base64url")}`;
      const home = join(dir, "home");
      mkdirSync(home);
      await addUser(["-M", "-d", home, "-s", "/bin/sh", username]);
      users.push(username);
      execFileSync("chown", [username, home]);
      execFileSync("chpasswd", { input: `${username}:${password}\n` });
      passwordUser = { username, password };
    }
  } catch (err) {
    removeUsers(users);
    throw err;
  }

  const port = await freePort();
  const config = [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${join(dir, "host_ed25519")}`,
    `PidFile ${join(dir, "sshd.pid")}`,
    `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
    "PermitRootLogin yes",
    `PasswordAuthentication ${passwordUser ? "yes" : "no"}`,
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    "StrictModes no",
    "AllowTcpForwarding yes",
    "MaxSessions 64",
    "MaxStartups 64:30:128",
    "Subsystem sftp internal-sftp",
    "LogLevel ERROR",
    ...(options.extraConfig ?? []),
  ];
  writeFileSync(join(dir, "sshd_config"), config.join("\n") + "\n");

  let proc: ChildProcess | undefined;
  let stopped = false;
  const start = async () => {
    const child = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", join(dir, "sshd_config")], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    proc = child;
    await waitForBanner(port, child, () => stderr);
  };
  const kill = async () => {
    const child = proc;
    proc = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    // A crash or reboot ends every session: kill the listener and all its descendants, parents
    // first, so connections drop before any command could report an exit status.
    const tree = [child.pid!, ...descendants(child.pid!)];
    for (const pid of tree) tryKill(pid);
    await exited;
  };
  try {
    await start();
  } catch (err) {
    removeUsers(users);
    throw err;
  }
  const cleanupOnExit = () => {
    void kill();
    removeUsers(users);
  };
  process.once("exit", cleanupOnExit);
  const clientKeyPath = join(dir, "client_ed25519");
  return {
    host: "127.0.0.1",
    port,
    dir,
    user,
    clientKeyPath,
    clientKey: readFileSync(clientKeyPath, "utf8"),
    hostKeyLine,
    hostKeyFingerprint,
    ...(passwordUser ? { passwordUser } : {}),
    authorize(line) {
      writeFileSync(join(dir, "authorized_keys"), line.trim() + "\n", { flag: "a" });
    },
    kill,
    start,
    async restart() {
      await kill();
      await start();
    },
    async rekey() {
      await kill();
      rmSync(join(dir, "host_ed25519"), { force: true });
      rmSync(join(dir, "host_ed25519.pub"), { force: true });
      keygen(join(dir, "host_ed25519"));
      await start();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      process.off("exit", cleanupOnExit);
      await kill();
      removeUsers(users);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** useradd, retried while another test holds the passwd lock. */
async function addUser(args: string[]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      execFileSync("useradd", args, { stdio: "pipe" });
      return;
    } catch (err) {
      if (attempt >= 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Deletes throwaway users (`-f`: a uid-0 alias always "has processes"). */
function removeUsers(users: string[]): void {
  for (const name of users.splice(0)) {
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        execFileSync("userdel", ["-f", name], { stdio: "pipe" });
        break;
      } catch (err) {
        // Exit 6: no such user (already gone); anything else is most likely the passwd lock.
        if ((err as { status?: number }).status === 6) break;
        execFileSync("sleep", ["0.1"]);
      }
    }
  }
}

function tryKill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already exited.
  }
}

/** Every process under `root`, parents before children, read from /proc. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // The process ended while we looked.
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}

async function waitForBanner(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`sshd exited with code ${child.exitCode}: ${stderr()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect(port, "127.0.0.1");
      sock.once("data", (d) => {
        sock.destroy();
        resolve(d.toString().startsWith("SSH-"));
      });
      sock.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd on port ${port} did not answer: ${stderr()}`);
}
