/**
 * A real Docker registry for tests: Debian's `docker-registry` (distribution 2.8) started on a
 * free loopback port with a temporary storage directory and htpasswd auth. The daemon treats
 * 127.0.0.0/8 registries as insecure (plain HTTP) by default.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The test registry's only user. */
export const REGISTRY_USER = "imgc";
/** Its password (a test fixture; the bcrypt hash below is of this string, at the lowest cost so each of the registry's per-request checks is cheap). */
export const REGISTRY_PASSWORD = "imgc-test-password";
const HTPASSWD = `${REGISTRY_USER}:$2b$04$d6JD.NnH6GX6f7g0RKJD.ux6YowetfEkdw6ajeCB07JAVKm.x.Xke\n`;

/** A running registry. */
export interface TestRegistry {
  /** `127.0.0.1:port`. */
  readonly host: string;
  /** Stops it and deletes its storage. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

/** Starts a registry and waits until it answers. */
export async function startRegistry(): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "imgc-registry-"));
  const port = await freePort();
  writeFileSync(join(dir, "htpasswd"), HTPASSWD);
  writeFileSync(
    join(dir, "config.yml"),
    [
      "version: 0.1",
      "log: { level: error }",
      `storage: { filesystem: { rootdirectory: ${join(dir, "data")} }, delete: { enabled: true } }`,
      `http: { addr: "127.0.0.1:${port}" }`,
      `auth: { htpasswd: { realm: imgc-test, path: ${join(dir, "htpasswd")} } }`,
    ].join("\n"),
  );
  const child: ChildProcess = spawn("/usr/bin/docker-registry", ["serve", join(dir, "config.yml")], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Bounded wait: 100 tries of 100 ms.
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    const ok = await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.status === 401 || r.status === 200, () => false);
    if (ok) return { host: `127.0.0.1:${port}`, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`docker-registry did not start on 127.0.0.1:${port}: ${stderr.trim().slice(-500)}`);
}
