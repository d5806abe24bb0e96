/**
 * examples/component-library end to end: the library installed into the project by `npm install`
 * through its `file:` dependency, built with `imgc apply` on the docker platform (a real
 * container with the host network for apt), checked from outside, then applied again (up to
 * date), and a change in a file the library ships makes `plan` rebuild. Needs `npm run build:js`
 * (the CLI runs from dist/, as for users).
 */
import { execa } from "execa";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { debianImage } from "../support/docker-base.js";

const repo = join(import.meta.dirname, "..", "..");
const example = join(repo, "examples", "component-library");
const imgc = join(repo, "bin", "imgc.js");
const release = `test-${process.pid}`;
const tag = `imgc-example/web:${release}`;
let dir: string;
let project: string;
let buildContainersBefore: string[];

const buildContainers = async (): Promise<string[]> =>
  (await execa("docker", ["ps", "-aq", "--filter", "label=imgc.build=web.docker"])).stdout.split("\n").filter(Boolean);
const run = (...args: string[]) => execa("node", [imgc, ...args, "images.ts", "--var", `release=${release}`], { cwd: project, reject: false, env: { CI: "1" } });
const inImage = async (script: string): Promise<string> => {
  const r = await execa("docker", ["run", "--rm", "--network", "none", tag, "sh", "-c", script], { reject: false });
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stdout.trim();
};

beforeAll(async () => {
  if (!existsSync(join(repo, "dist", "stdlib", "index.js"))) throw new Error("dist/ is missing: run npm run build:js first");
  await debianImage();
  dir = mkdtempSync(join(tmpdir(), "imgc-component-library-"));
  cpSync(join(example, "lib"), join(dir, "lib"), { recursive: true });
  cpSync(join(example, "project"), join(dir, "project"), { recursive: true, filter: (src) => !/node_modules|\.imgc/.test(src) });
  project = join(dir, "project");
  // The file: dependency, installed by npm itself (no registry needed: the library has no dependencies).
  await execa("npm", ["install", "--offline", "--no-audit", "--no-fund"], { cwd: project });
  buildContainersBefore = await buildContainers();
}, 600_000);

afterAll(async () => {
  await execa("docker", ["rmi", "-f", tag], { reject: false });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("examples/component-library", () => {
  it("builds with imgc apply, and the image has what the components promise", { timeout: 900_000 }, async () => {
    const apply = await run("apply");
    expect(apply.exitCode, `${apply.stdout}\n${apply.stderr}`).toBe(0);
    expect(apply.stdout).toContain("1 built");
    expect(await inImage("nginx -t 2>&1")).toContain("syntax is ok");
    expect(await inImage("grep listen /etc/nginx/sites-available/default")).toBe("listen 8080 default_server;");
    expect(await inImage("cat /srv/www/index.html")).toContain(`<h1>Release ${release}</h1>`);
    expect(await inImage("id -nG deploy")).toBe("deploy www-data");
    expect(await inImage("cat /etc/sudoers.d/90-imgc-deploy")).toBe("deploy ALL=(ALL) NOPASSWD: /usr/sbin/nginx -s reload");
    expect(await inImage("readlink /etc/systemd/system/multi-user.target.wants/nginx.service")).toBe("/lib/systemd/system/nginx.service");
    expect(await inImage("stat -c '%a %U' /home/deploy/.ssh/authorized_keys")).toBe("600 deploy");
    expect(await inImage("ls /var/lib/apt/lists | grep -v -e lock -e partial | wc -l")).toBe("0");
    // The build container is gone.
    expect((await buildContainers()).filter((c) => !buildContainersBefore.includes(c))).toEqual([]);
  });

  it("a second apply is up to date; editing a file the library ships makes plan rebuild", { timeout: 300_000 }, async () => {
    const again = await run("apply");
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toContain("0 built, 1 up to date");
    const template = join(project, "node_modules", "@example", "imgc-web-components", "src", "site.conf.tpl");
    writeFileSync(template, readFileSync(template, "utf8").replace("index index.html;", "index index.html index.htm;"));
    const plan = await run("plan");
    expect(plan.stdout).toMatch(/web\.docker.*rebuild/);
  });
});
