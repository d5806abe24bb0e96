// compileProject end to end on small projects written to a temporary directory: graph shape,
// folding, cache keys (what changes them and what must not), secrets, selection.
import { createHash } from "node:crypto";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync, existsSync, statSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compileProject } from "../../compiler/index.js";
import type { BuildGraph } from "../../compiler/ir.js";

const root = mkdtempSync(join(tmpdir(), "imgc-compile-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

/** Writes a project (file name → content) and returns its directory. */
function project(files: Record<string, string>): string {
  const dir = join(root, `p${++counter}`);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

const HEADER = `import { image, variable, secret, t, timestamp, uuid, env, lower } from "imgc";
import { docker } from "imgc/platforms/docker";
import { nullHost } from "imgc/platforms/null";
import { shell, file } from "imgc/provisioners";
import { manifest } from "imgc/post";
`;

async function compile(dir: string, opts: Parameters<typeof compileProject>[0] = {}): Promise<BuildGraph> {
  return (await compileProject({ file: join(dir, "images.ts"), env: {}, ...opts })).graph;
}
const node = (g: BuildGraph, id: string) => g.nodes.find((n) => n.id === id)!;

const TWO_IMAGES = `${HEADER}
const version = variable("version", { type: "string", default: "1.0" });
export const base = image("base", {
  platforms: [docker({ image: "img:1", commit: true }), nullHost({ ssh: { host: "10.0.0.5", username: "admin" } })],
  provision: [file.upload("./conf/app.conf", "/etc/app.conf"), shell({ inline: [t\`echo \${version}\`] })],
});
export default image("web", {
  from: base,
  provision: [shell({ inline: [t\`echo \${timestamp()} \${uuid()}\`] })],
  post: [manifest({ output: "out/manifest.json" })],
});
`;

describe("compileProject", () => {
  it("makes a node per image × platform in dependency order, inheriting platforms through from", async () => {
    const dir = project({ "images.ts": TWO_IMAGES, "conf/app.conf": "a=1\n" });
    const g = await compile(dir);
    expect(g.irVersion).toBe(1);
    expect(g.nodes.map((n) => n.id)).toEqual(["base.docker", "base.null", "web.docker", "web.null"]);
    expect(node(g, "web.docker").source).toEqual({ kind: "image", node: "base.docker" });
    expect(node(g, "web.docker").deps).toEqual(["base.docker"]);
    expect(node(g, "base.docker").source).toEqual({ kind: "base" });
    expect(node(g, "base.docker").provision[1]!.options).toEqual({ inline: ["echo 1.0"] });
    expect(node(g, "base.docker").provision[0]!.options).toMatchObject({
      source: { $path: join(dir, "conf/app.conf"), rel: "conf/app.conf", type: "file" },
    });
    // JSON round trip: the IR is plain data.
    expect(JSON.parse(JSON.stringify(g))).toEqual(g);
  });

  it("keys are deterministic, ignore timestamp()/uuid() values, and follow file contents and upstream keys", async () => {
    const dir = project({ "images.ts": TWO_IMAGES, "conf/app.conf": "a=1\n" });
    const a = await compile(dir);
    const b = await compile(dir);
    expect(b.nodes.map((n) => n.key)).toEqual(a.nodes.map((n) => n.key));
    expect(node(a, "web.docker").provision[0]!.options).toEqual({
      inline: [{ $ref: { kind: "template", parts: ["echo ", { kind: "build", field: "timestamp" }, " ", { kind: "build", field: "uuid" }] } }],
    });
    writeFileSync(join(dir, "conf/app.conf"), "a=2\n");
    const c = await compile(dir);
    expect(node(c, "base.docker").key).not.toBe(node(a, "base.docker").key);
    expect(node(c, "base.docker").keyParts["provision[0]"]).not.toBe(node(a, "base.docker").keyParts["provision[0]"]);
    expect(node(c, "base.docker").keyParts.config).toBe(node(a, "base.docker").keyParts.config);
    // Merkle chain: the downstream key changes though web's own definition did not.
    expect(node(c, "web.docker").keyParts["provision[0]"]).toBe(node(a, "web.docker").keyParts["provision[0]"]);
    expect(node(c, "web.docker").key).not.toBe(node(a, "web.docker").key);
  });

  it("a variable changes keys; the same project in another directory has the same keys", async () => {
    const files = { "images.ts": TWO_IMAGES, "conf/app.conf": "a=1\n" };
    const a = await compile(project(files));
    const b = await compile(project(files));
    expect(b.nodes.map((n) => n.key)).toEqual(a.nodes.map((n) => n.key));
    const c = await compile(project(files), { vars: { version: "2.0" } });
    expect(node(c, "base.docker").key).not.toBe(node(a, "base.docker").key);
    expect(c.variables).toEqual({ version: "2.0" });
  });

  it("post-processors are outside the node key and get derived keys; their paths are outputs", async () => {
    const dir = project({ "images.ts": TWO_IMAGES, "conf/app.conf": "a=1\n" });
    const a = await compile(dir);
    writeFileSync(join(dir, "images.ts"), TWO_IMAGES.replace("out/manifest.json", "out/m2.json"));
    const b = await compile(dir);
    expect(node(b, "web.docker").key).toBe(node(a, "web.docker").key);
    expect(node(b, "web.docker").post[0]!.key).toMatch(/^sha256:/);
    expect(node(b, "web.docker").post[0]!.key).not.toBe(node(a, "web.docker").post[0]!.key);
    expect(node(b, "web.docker").post[0]!.options).toEqual({ output: { $path: join(dir, "out/m2.json"), rel: "out/m2.json" } });
  });

  it("secrets stay symbolic and count by name; affectsImage secrets count by keyed hash with the project salt", async () => {
    const src = `${HEADER}
const token = secret("token");
const key = secret("license", { affectsImage: true });
export default image("a", {
  platforms: [docker({ image: "img:1", commit: true })],
  provision: [shell({ inline: ["true"], env: { TOKEN: token, LICENSE: key } })],
});
`;
    const dir = project({ "images.ts": src });
    await expect(compileProject({ file: join(dir, "images.ts"), env: {} })).rejects.toMatchObject({ code: "IMGC_SECRET_MISSING" });
    const r1 = await compileProject({ file: join(dir, "images.ts"), env: { IMGC_SECRET_token: "t1", IMGC_SECRET_license: "L1" } });
    const r2 = await compileProject({ file: join(dir, "images.ts"), env: { IMGC_SECRET_token: "t2" }, vars: { license: "L1" } });
    const r3 = await compileProject({ file: join(dir, "images.ts"), env: { IMGC_SECRET_token: "t1", IMGC_SECRET_license: "L2" } });
    expect(r1.graph.secrets).toEqual(["license", "token"]);
    expect(r1.graph.keyedSecrets).toEqual(["license"]);
    expect(r1.sensitiveValues.secrets).toEqual({ token: "t1", license: "L1" });
    expect(r2.graph.nodes[0]!.key).toBe(r1.graph.nodes[0]!.key); // rotating a plain secret rebuilds nothing
    expect(r3.graph.nodes[0]!.key).not.toBe(r1.graph.nodes[0]!.key);
    const text = JSON.stringify(r1.graph);
    expect(text).not.toContain("t1");
    expect(text).not.toContain("L1");
    expect(existsSync(join(dir, ".imgc/salt"))).toBe(true);
    expect(readFileSync(join(dir, ".imgc/salt"), "utf8").trim()).toMatch(/^[0-9a-f]{64}$/);
  });

  it("sensitive variables stay $ref in the IR, their values travel beside it", async () => {
    const src = `${HEADER}
const pw = variable("pw", { type: "string", sensitive: true });
export default image("a", { platforms: [docker({ image: "img:1", commit: true })], provision: [shell({ inline: [t\`login \${pw}\`] })] });
`;
    const dir = project({ "images.ts": src });
    const r = await compileProject({ file: join(dir, "images.ts"), env: { IMGC_VAR_pw: "hunter2" } });
    expect(r.graph.variables).toEqual({ pw: "<sensitive>" });
    expect(r.sensitiveValues.vars).toEqual({ pw: "hunter2" });
    expect(JSON.stringify(r.graph)).not.toContain("hunter2");
    expect(r.graph.nodes[0]!.provision[0]!.options).toEqual({ inline: [{ $ref: { kind: "template", parts: ["login ", { kind: "var", name: "pw" }] } }] });
  });

  it("variables: --var > --var-file > IMGC_VAR_ > default, parsed to the declared type", async () => {
    const src = `${HEADER}
const n = variable("n", { type: "number", default: 1 });
const tags = variable("tags", { type: "list", default: [] });
const labels = variable("labels", { type: "map", default: {} });
const on = variable("on", { type: "boolean", default: false });
export default image("a", { platforms: [docker({ image: "img:1", commit: true })], provision: [shell({ inline: [t\`\${n} \${on}\`] })] });
`;
    const dir = project({ "images.ts": src, "vars.json": JSON.stringify({ n: 3, tags: ["x", "y"] }), "vars.ts": "export default { labels: { a: 'b' } satisfies Record<string, string> };\n" });
    const g1 = await compile(dir, { env: { IMGC_VAR_n: "2", IMGC_VAR_on: "true" } });
    expect(g1.variables).toEqual({ n: 2, tags: [], labels: {}, on: true });
    const g2 = await compile(dir, { env: { IMGC_VAR_n: "2" }, varFiles: [join(dir, "vars.json"), join(dir, "vars.ts")] });
    expect(g2.variables).toEqual({ n: 3, tags: ["x", "y"], labels: { a: "b" }, on: false });
    const g3 = await compile(dir, { env: { IMGC_VAR_n: "2" }, varFiles: [join(dir, "vars.json")], vars: { n: "4", tags: "a,b", labels: "k=v" } });
    expect(g3.variables).toMatchObject({ n: 4, tags: ["a", "b"], labels: { k: "v" } });
    expect(g3.nodes[0]!.provision[0]!.options).toEqual({ inline: ["4 false"] });
  });

  it("env() and functions of known values fold to literals", async () => {
    const src = `${HEADER}
export default image("a", { platforms: [docker({ image: "img:1", commit: true })], provision: [shell({ inline: [lower(t\`\${env("WHO")}-\${env("NONE", "Dflt")}\`)] })] });
`;
    const g = await compile(project({ "images.ts": src }), { env: { WHO: "ME" } });
    expect(g.nodes[0]!.provision[0]!.options).toEqual({ inline: ["me-dflt"] });
    await expect(compile(project({ "images.ts": src }), { env: {} })).rejects.toMatchObject({ code: "IMGC_ENV_MISSING" });
  });

  it("artifact references add edges; dependsOn adds edges to every node of the other image", async () => {
    const src = `${HEADER}
export const base = image("base", { platforms: [docker({ image: "img:1", commit: true }), docker({ name: "alt", image: "img:2", commit: true })] });
export const tool = image("tool", { platforms: [docker({ image: "img:1", commit: true })] });
export default image("app", {
  platforms: [docker({ image: t\`\${base.artifact("alt").id}\`, commit: true })],
  dependsOn: [tool],
});
`;
    const g = await compile(project({ "images.ts": src }));
    expect(node(g, "app.docker").deps).toEqual(["base.alt", "tool.docker"]);
    expect(node(g, "app.docker").config).toEqual({ image: { $ref: { kind: "artifact", image: "base", platform: "alt", field: "id" } }, commit: true });
    expect(g.nodes.map((n) => n.id).indexOf("app.docker")).toBe(3);
  });

  it("--only keeps what the selection needs, --except drops dependants", async () => {
    const dir = project({ "images.ts": TWO_IMAGES, "conf/app.conf": "a=1\n" });
    expect((await compile(dir, { only: ["web.docker"] })).nodes.map((n) => n.id)).toEqual(["base.docker", "web.docker"]);
    expect((await compile(dir, { only: ["*.null"] })).nodes.map((n) => n.id)).toEqual(["base.null", "web.null"]);
    expect((await compile(dir, { except: ["base.docker"] })).nodes.map((n) => n.id)).toEqual(["base.null", "web.null"]);
    expect((await compile(dir, { except: ["web"] })).nodes.map((n) => n.id)).toEqual(["base.docker", "base.null"]);
    await expect(compile(dir, { only: ["nope"] })).rejects.toMatchObject({ code: "IMGC_SELECT" });
  });

  it("only/except on provisioners select per platform", async () => {
    const src = `${HEADER}
export default image("a", {
  platforms: [docker({ image: "img:1", commit: true }), nullHost({ ssh: { host: "h", username: "u" } })],
  provision: [shell({ inline: ["d"], only: ["docker"] }), shell({ inline: ["n"], except: ["docker"] })],
});
`;
    const g = await compile(project({ "images.ts": src }));
    expect(node(g, "a.docker").provision.map((p) => p.options)).toEqual([{ inline: ["d"] }]);
    expect(node(g, "a.null").provision.map((p) => p.options)).toEqual([{ inline: ["n"] }]);
  });

  it("a second compile in one process sees edits of imported files", async () => {
    const dir = project({ "images.ts": `${HEADER}import { cmd } from "./part.js";\nexport default image("a", { platforms: [docker({ image: "i", commit: true })], provision: [shell({ inline: [cmd] })] });\n`, "part.ts": 'export const cmd = "one";\n' });
    expect((await compile(dir)).nodes[0]!.provision[0]!.options).toEqual({ inline: ["one"] });
    writeFileSync(join(dir, "part.ts"), 'export const cmd = "two";\n');
    expect((await compile(dir)).nodes[0]!.provision[0]!.options).toEqual({ inline: ["two"] });
  });

  it("a qemu sourceImage is in the key; large files' digests are remembered while the file is unchanged", async () => {
    const src = `import { image } from "imgc";
import { qemu } from "imgc/platforms/qemu";
export default image("vm", { platforms: [qemu({ sourceImage: "./disk.qcow2", ssh: { username: "root" } })] });
`;
    const dir = project({ "images.ts": src });
    const disk = join(dir, "disk.qcow2");
    writeFileSync(disk, Buffer.alloc(3 << 20, 1)); // over the 1 MiB threshold
    const k1 = (await compile(dir)).nodes[0]!.key;
    const cacheFile = join(dir, ".imgc", "digests.json");
    const cache = JSON.parse(readFileSync(cacheFile, "utf8")) as { files: Record<string, { stamp: string; sha256: string }> };
    expect(Object.keys(cache.files)).toEqual([disk]);
    expect(cache.files[disk]!.sha256).toBe(createHash("sha256").update(Buffer.alloc(3 << 20, 1)).digest("hex"));

    // While the file is unchanged, the remembered digest is used, not the bytes: a planted
    // digest shows through (and changes the key).
    cache.files[disk] = { ...cache.files[disk]!, sha256: "0".repeat(64) };
    writeFileSync(cacheFile, JSON.stringify(cache));
    const planted = (await compile(dir)).nodes[0]!.key;
    expect(planted).not.toBe(k1);

    // Same size, same mtime put back: ctime moved, so the file is read again.
    const { mtime } = statSync(disk);
    writeFileSync(disk, Buffer.alloc(3 << 20, 2));
    utimesSync(disk, mtime, mtime);
    const k2 = (await compile(dir)).nodes[0]!.key;
    expect(k2).not.toBe(k1);
    expect(k2).not.toBe(planted);
    writeFileSync(disk, Buffer.alloc(3 << 20, 1));
    expect((await compile(dir)).nodes[0]!.key).toBe(k1);

    // A corrupt cache is ignored; a missing disk is an error at the definition.
    writeFileSync(cacheFile, "{not json");
    expect((await compile(dir)).nodes[0]!.key).toBe(k1);
    rmSync(disk);
    await expect(compile(dir)).rejects.toThrow(/sourceImage names \.\/disk\.qcow2, which does not exist/);
  });
});
