/**
 * The null platform end to end through the CLI: `imgc apply examples/null/images.ts` (a copy,
 * with its own state) against a real sshd on a loopback port, then every provisioner's work
 * checked on the "machine" (this host); a second apply is up to date; a reinstalled host (new
 * host key) is provisioned again; a wrong pinned key fails; destroy forgets the record.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSshd, type TestSshd } from "../../support/sshd.js";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
// Inside the package, so `import … from "imgc"` resolves to this checkout.
const dir = join(repo, "test", ".cache", `null-e2e-${process.pid}`);
const cli = join(repo, "bin", "imgc.js");
const target = `/tmp/imgc-null-e2e-${process.pid}`;
let sshd: TestSshd;

function imgc(...args: string[]): { code: number; out: string } {
  const vars = ["--var", `host=${sshd.host}`, "--var", `port=${sshd.port}`, "--var", `user=${sshd.user}`, "--var", `key=${sshd.clientKeyPath}`, "--var", `dir=${target}`];
  const r = spawnSync(process.execPath, [cli, ...args, ...(args[0] === "destroy" || args[0] === "state" ? [] : vars)], { cwd: dir, encoding: "utf8", env: { ...process.env, CI: "1" } });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

beforeAll(async () => {
  if (!existsSync(join(repo, "dist", "cli", "main.js"))) throw new Error("dist/ is missing: run `npm run build:js` (npm test builds it)");
  sshd = await startSshd();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  cpSync(join(repo, "examples", "null"), dir, { recursive: true, filter: (src) => !src.includes(".imgc") });
});

afterAll(async () => {
  await sshd?.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(target, { recursive: true, force: true });
});

describe("examples/null through imgc apply", () => {
  it("provisions the host, records it, and is up to date the second time", () => {
    const r = imgc("apply", "images.ts");
    expect(r.out).toContain("1 built");
    expect(r.code).toBe(0);
    expect(r.out).toContain(`accepted host key of 127.0.0.1:${sshd.port} on first use: ${sshd.hostKeyFingerprint}`);
    expect(r.out).toContain(`provisioned 127.0.0.1:${sshd.port} as ${sshd.user}`);
    expect(readFileSync(join(target, "greeting"), "utf8")).toBe("hello from imgc\n");
    expect(readFileSync(join(target, "index.html"), "utf8")).toContain("Provisioned by imgc");
    expect(readFileSync(join(target, "BUILT"), "utf8")).toBe("built by imgc for 127.0.0.1\n");
    expect(readFileSync(join(target, "SHA256SUMS"), "utf8")).toMatch(/index\.html\n.*BUILT\n$/);
    const state = JSON.parse(readFileSync(join(dir, ".imgc", "state.json"), "utf8"));
    const record = JSON.stringify(state);
    expect(record).toContain(`"site@127.0.0.1"`);
    expect(record).toContain(sshd.hostKeyFingerprint);

    rmSync(join(target, "greeting"));
    const again = imgc("apply", "images.ts");
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/up to date/);
    expect(again.out).not.toContain("1 built");
    expect(existsSync(join(target, "greeting"))).toBe(false);
  });

  it("provisions again when the host was reinstalled (new host key)", async () => {
    await sshd.rekey();
    const plan = imgc("plan", "images.ts");
    expect(plan.out).toMatch(/site\.null/);
    const r = imgc("apply", "images.ts");
    expect(r.code).toBe(0);
    expect(r.out).toContain("1 built");
    expect(readFileSync(join(target, "greeting"), "utf8")).toBe("hello from imgc\n");
  });

  it("refuses a host whose key differs from the pinned one", () => {
    const r = imgc("apply", "images.ts", "--force", "--var", "host_key=SHA256:" + "A".repeat(43));
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/host key of 127\.0\.0\.1:\d+ is SHA256:\S+, but SHA256:A{43} was expected: refusing/);
  });

  it("destroy forgets the record and deletes nothing", () => {
    const r = imgc("destroy", "images.ts", "--yes");
    expect(r.code).toBe(0);
    expect(existsSync(join(target, "index.html"))).toBe(true);
    const list = imgc("state", "list");
    expect(list.out).not.toContain("site.null");
  });
});
