// The imgc CLI as users run it (node bin/imgc.js, from the built dist/): commands, exit codes,
// diagnostics at file:line:col without stacks (stacks with --debug), --json, init's scaffold.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const repo = resolve(import.meta.dirname, "../..");
const bin = join(repo, "bin/imgc.js");
const fixtures = join(repo, "test/fixtures");
const tmp = mkdtempSync(join(tmpdir(), "imgc-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function imgc(args: string[], cwd = repo): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], { cwd, env: { ...process.env, NO_COLOR: "1" } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("imgc CLI", () => {
  it("an unknown option is a usage error (exit 2) and the command does not run", async () => {
    const r = await imgc(["plan", "--bogus", "examples/basic/images.ts"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown argument: bogus");
    expect(r.stdout).toBe("");
  });

  it("validate reports a mistyped docker option at its line and column (the real type checker), exit 1", async () => {
    const r = await imgc(["validate", "test/fixtures/diagnostics/type-error/images.ts"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "test/fixtures/diagnostics/type-error/images.ts:5:63: error IMGC_TYPE: Type 'string' is not assignable to type 'boolean | undefined'.",
    );
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("validate passes on the basic example", async () => {
    const r = await imgc(["validate"], join(repo, "examples/basic"));
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("The definitions are valid: 4 nodes, 1 file type-checked.\n");
    expect(r.code).toBe(0);
  });

  it("plan lists nodes in dependency order with type, key and dependencies", async () => {
    const r = await imgc(["plan", "examples/basic/images.ts"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n").filter((l) => /^\S?\s+\w+\.\w+\s/.test(l) || /^[+=~ ] /.test(l)).filter((l) => l.trim());
    expect(lines.map((l) => l.trim().split(/\s+/).filter((w) => !/^[+=~]$/.test(w))[0])).toEqual(["base.docker", "base.null", "web.docker", "web.null"]);
    expect(r.stdout).toMatch(/web\.docker\s+docker\s+sha256:[0-9a-f]{12}…\s+after base\.docker/);
    const json = JSON.parse((await imgc(["plan", "examples/basic/images.ts", "--json", "--only", "web.docker"])).stdout);
    expect(json.nodes.map((n: { id: string }) => n.id)).toEqual(["base.docker", "web.docker"]);
    expect(json.nodes[1]).toMatchObject({ type: "docker", deps: ["base.docker"], key: expect.stringMatching(/^sha256:/) });
  });

  it("graph prints the IR as JSON, DOT or Mermaid", async () => {
    const json = JSON.parse((await imgc(["graph", "examples/basic/images.ts"])).stdout);
    expect(json.irVersion).toBe(1);
    expect(json.nodes).toHaveLength(4);
    const dot = (await imgc(["graph", "examples/basic/images.ts", "--format", "dot"])).stdout;
    expect(dot).toMatch(/^digraph imgc \{/);
    expect(dot).toContain('"base.docker" -> "web.docker" [label="from"];');
    const mermaid = (await imgc(["graph", "examples/basic/images.ts", "--format", "mermaid"])).stdout;
    expect(mermaid).toMatch(/^flowchart LR/);
    expect(mermaid).toContain("n0 -->|from| n2");
  });

  it("a definitions error prints one sentence with its site and a hint, exit 1; --debug adds the stack; --json a document", async () => {
    const r = await imgc(["plan", "test/fixtures/diagnostics/cycle/images.ts"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^test\/fixtures\/diagnostics\/cycle\/images\.ts:12:\d+: error IMGC_CYCLE: dependency cycle: a\.docker → b\.docker → a\.docker\n  hint: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const debug = await imgc(["plan", "test/fixtures/diagnostics/cycle/images.ts", "--debug"]);
    expect(debug.stderr).toMatch(/\n\s+at /);
    const json = await imgc(["plan", "test/fixtures/diagnostics/cycle/images.ts", "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: "IMGC_CYCLE" } });
  });

  it("--var and --var-file reach the compiler", async () => {
    const r = await imgc(["plan", join(fixtures, "diagnostics/vars/images.ts"), "--var", "count=3", "--var", "region=eu-west-1", "--json"]);
    expect(r.code).toBe(0);
    const bad = await imgc(["plan", join(fixtures, "diagnostics/vars/images.ts"), "--var", "count"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--var count is not name=value");
  });

  it("usage errors exit 2; --help lists commands and global flags", async () => {
    const r = await imgc(["plna"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: .*plan/i);
    const help = await imgc(["--help"]);
    expect(help.code).toBe(0);
    for (const word of ["validate", "plan", "graph", "init", "--var-file", "--only", "--except", "--json", "--debug"]) expect(help.stdout).toContain(word);
    expect((await imgc(["plan", "--help"])).stdout).toContain("[default: \"images.ts\"]");
    const missing = await imgc(["plan"], tmp);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("error IMGC_FILE_NOT_FOUND: the definitions file images.ts does not exist");
  });

  it("init scaffolds a project that validates and plans, and never overwrites", async () => {
    const dir = join(tmp, "new-project");
    const r = await imgc(["init", dir]);
    expect(r.code).toBe(0);
    for (const f of ["images.ts", "tsconfig.json", "package.json"]) expect(existsSync(join(dir, f))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))).toMatchObject({ type: "module", dependencies: { imgc: expect.any(String) } });
    const again = await imgc(["init", dir]);
    expect(again.stderr).toContain("kept images.ts: it exists already");
    const v = await imgc(["validate"], dir);
    expect(v.stderr).toBe("");
    expect(v.stdout).toBe("The definitions are valid: 1 node, 1 file type-checked.\n");
    expect((await imgc(["plan"], dir)).stdout).toMatch(/app\.docker\s+docker\s+sha256:/);
  });
});
