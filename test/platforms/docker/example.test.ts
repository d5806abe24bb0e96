/**
 * End to end on the real engine through the CLI: `imgc apply` on examples/docker (a copy, so
 * the test has its own state), then `docker run` the result and check what every provisioner
 * did, the base → app chain, the commit changes; a second apply starts no container; a failing
 * provisioner and a SIGINT mid-provision leave no build container.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EngineBackend } from "../../../runtime/platforms/docker/backend-engine.js";
import { BUILD_LABEL } from "../../../runtime/platforms/docker/backend.js";
import { debianImage } from "../../support/docker-base.js";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
// Inside the package, so `import … from "imgc"` resolves to this checkout.
const dir = join(repo, "test", ".cache", `docker-e2e-${process.pid}`);
const cli = join(repo, "bin", "imgc.js");
const release = `e2e-${process.pid}`;
const backend = new EngineBackend();
// Whole builds through the CLI: allow for a slow, shared machine (no timing assertions).
const SLOW = 600_000;

function imgc(args: string[]): { code: number; out: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: "utf8", env: { ...process.env, CI: "1" } });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

function run(image: string, ...cmd: string[]): string {
  return execFileSync("docker", ["run", "--rm", "--network", "none", image, ...cmd], { encoding: "utf8" });
}

const buildContainers = (node: string): Promise<string[]> => backend.listContainers(`${BUILD_LABEL}=${node}`);

beforeAll(async () => {
  if (!existsSync(join(repo, "dist", "cli", "main.js"))) throw new Error("dist/ is missing: run `npm run build:js` (npm test builds it)");
  await debianImage();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  cpSync(join(repo, "examples", "docker"), dir, { recursive: true, filter: (src) => !src.includes(".imgc") });
});

afterAll(async () => {
  for (const ref of [`imgc-example/app:${release}`]) await backend.removeImage(ref, { force: true });
  rmSync(dir, { recursive: true, force: true });
});

describe("examples/docker through imgc apply", () => {
  it("builds base then app; the image runs and shows every provisioner's work and the commit changes", () => {
    const r = imgc(["apply", "images.ts", "--var", `release=${release}`]);
    expect(r.out).toContain("2 built");
    expect(r.code).toBe(0);
    const image = `imgc-example/app:${release}`;
    // CMD, USER and WORKDIR from app's changes; RELEASE from the shell provisioner; the
    // greeting from the directory upload.
    expect(run(image)).toBe(`hello from ${release} as app in /srv/app\ngreeting = welcome\n`);
    // base's provisioners, seen through the chain: the app user and the uploaded motd.
    expect(run(image, "cat", "/etc/motd")).toContain("built by imgc");
    expect(run(image, "id", "-un")).toBe("app\n");
    expect(run(image, "cat", "/srv/app/TARGET")).toBe("built for example\n");
    expect(run(image, "stat", "-c", "%U %a", "/srv/app/bin/hello", "/srv/app/data")).toBe("app 755\napp 755\n");
    const config = JSON.parse(execFileSync("docker", ["image", "inspect", image, "--format", "{{json .Config}}"], { encoding: "utf8" }));
    expect(config.User).toBe("app");
    expect(config.WorkingDir).toBe("/srv/app");
    expect(config.Cmd).toEqual(["/srv/app/bin/hello"]);
    expect(Object.keys(config.ExposedPorts)).toEqual(["8080/tcp"]);
    expect(config.Env).toEqual(expect.arrayContaining(["LANG=C.UTF-8", `APP_RELEASE=${release}`]));
    expect(config.Labels).toMatchObject({ "org.example.stage": "app", "org.example.release": release });
  }, SLOW);

  it("a second apply is all up to date and starts no container", () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const r = imgc(["apply", "images.ts", "--var", `release=${release}`]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("2 up to date");
    const until = Math.floor(Date.now() / 1000) + 1;
    const events = execFileSync("docker", ["events", "--since", String(since), "--until", String(until), "--filter", "type=container", "--filter", "event=create", "--filter", `label=${BUILD_LABEL}`, "--format", "{{.Actor.Attributes.name}}"], { encoding: "utf8" });
    expect(events.split("\n").filter((n) => n.includes(".docker-") && /^imgc-(base|app)\.docker-/.test(n))).toEqual([]);
  }, SLOW);

  it("imgc destroy removes the images the apply built (and exists then says they are gone)", async () => {
    const state = JSON.parse(readFileSync(join(dir, ".imgc", "state.json"), "utf8")) as { nodes: Record<string, { artifact: { id: string } }> };
    const ids = ["base.docker", "app.docker"].map((n) => state.nodes[n]!.artifact.id);
    for (const id of ids) expect(await backend.inspectImage(id)).toBeDefined();
    const r = imgc(["destroy", "images.ts", "--yes", "--var", `release=${release}`]);
    expect(r.code).toBe(0);
    for (const id of ids) expect(await backend.inspectImage(id)).toBeUndefined();
  }, SLOW);

  it("a failing provisioner fails the apply with the step named, and leaves no container", async () => {
    writeFileSync(
      join(dir, "failing.ts"),
      `import { image } from "imgc";\nimport { docker } from "imgc/platforms/docker";\nimport { shell } from "imgc/provisioners";\n` +
        `export default image("broken-${process.pid}", { platforms: [docker({ image: "local/debian:12", commit: true, network: "none" })],\n` +
        `  provision: [shell({ inline: ["echo before", "exit 3"] })] });\n`,
    );
    const r = imgc(["apply", "failing.ts"]);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/provision\[0\] shell.*failed.*exited with code 3/s);
    expect(await buildContainers(`broken-${process.pid}.docker`)).toEqual([]);
  }, SLOW);

  it("SIGINT mid-provision stops the apply and leaves no container", async () => {
    const node = `slow-${process.pid}.docker`;
    writeFileSync(
      join(dir, "slow.ts"),
      `import { image } from "imgc";\nimport { docker } from "imgc/platforms/docker";\nimport { shell } from "imgc/provisioners";\n` +
        `export default image("slow-${process.pid}", { platforms: [docker({ image: "local/debian:12", commit: true, network: "none" })],\n` +
        `  provision: [shell({ inline: ["echo provisioning-started", "sleep 120"] })] });\n`,
    );
    const child = spawn(process.execPath, [cli, "apply", "slow.ts"], { cwd: dir, env: { ...process.env, CI: "1" } });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c));
    child.stderr.on("data", (c: Buffer) => (out += c));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    // Bounded wait for the provisioner's first line: 600 × 100 ms.
    for (let i = 0; i < 600 && !out.includes("provisioning-started"); i++) await new Promise((r) => setTimeout(r, 100));
    expect(out).toContain("provisioning-started");
    expect((await buildContainers(node)).length).toBe(1);
    child.kill("SIGINT");
    const code = await exited;
    expect(code).not.toBe(0);
    expect(await buildContainers(node)).toEqual([]);
  }, SLOW);
});
