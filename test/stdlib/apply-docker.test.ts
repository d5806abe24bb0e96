/**
 * The stdlib through the real pipeline: `imgc apply` (compiler, runtime, docker platform with
 * its docker-exec communicator) on the Debian and busybox base images, checked from outside in
 * a container of each committed image. Lazy values go through the runtime for real here: a
 * secret authorized key and a variable inside a template. A second apply is up to date, and a
 * component that cannot work on the machine (packages on busybox) fails the build with its
 * message and leaves no container. Needs `npm run build:js` (the CLI runs from dist/).
 */
import { execa } from "execa";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { busyboxImage, debianImage } from "../support/docker-base.js";

const repo = join(import.meta.dirname, "..", "..");
const tag = `t${process.pid}`;
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTestsOnly0000000000000000000000 secret@test";
let dir: string;
let containersBefore: string[];

const IMAGES = `import { image, variable, secret, t } from "imgc";
import { docker } from "imgc/platforms/docker";
import { dockerTag } from "imgc/post";
import { cleanup, files, locale, packages, reboot, services, timezone, users } from "imgc/stdlib";

const release = variable("release", { type: "string", default: "2.0" });
const key = secret("deploy_key");
const common = (name: string) => [
  users.add("deploy", { groups: ["ops"], authorizedKeys: [key] }),
  files.put("/etc/release", { templateText: "release={{ r }} on {{ os }}\\n", values: { r: release, os: name }, mode: 0o600, owner: "deploy" }),
  files.put("/etc/motd", { content: t\`image \${release}\\n\` }),
  services.enable("app", { unit: { description: "App", execStart: "/bin/true", type: "oneshot", environment: { RELEASE: release } } }),
  locale("C.UTF-8"),
  reboot(),
];

export const deb = image("stdlib-deb", {
  platforms: [docker({ image: "local/debian:12", commit: true, network: "host" })],
  provision: [
    packages.install(["sudo"]),
    common("debian"),
    timezone("Asia/Tokyo", { sudo: true }),
    cleanup.forImage(),
  ],
  post: [dockerTag({ repository: "imgc-test/stdlib-deb", tags: ["${tag}"] })],
});

export const tiny = image("stdlib-tiny", {
  platforms: [docker({ image: "imgc-test/busybox:1", commit: true, network: "none" })],
  provision: [common("busybox"), cleanup.forImage()],
  post: [dockerTag({ repository: "imgc-test/stdlib-tiny", tags: ["${tag}"] })],
});
`;

const buildContainers = async (): Promise<string[]> => {
  const ids: string[] = [];
  for (const node of ["stdlib-deb.docker", "stdlib-tiny.docker", "stdlib-broken.docker"]) {
    ids.push(...(await execa("docker", ["ps", "-aq", "--filter", `label=imgc.build=${node}`])).stdout.split("\n").filter(Boolean));
  }
  return ids;
};
const imgc = (...args: string[]) =>
  execa("node", [join(repo, "bin", "imgc.js"), ...args], { cwd: dir, reject: false, env: { CI: "1", IMGC_SECRET_deploy_key: KEY } });

// One checking container per image, reused for every check (with the vfs storage driver each
// container start copies the whole image).
const checkers = new Map<string, string>();
async function inImage(image: string, script: string): Promise<string> {
  let id = checkers.get(image);
  if (!id) {
    id = (await execa("docker", ["run", "-d", "--network", "none", image, "sh", "-c", "while :; do sleep 3600; done"])).stdout.trim();
    checkers.set(image, id);
  }
  const r = await execa("docker", ["exec", id, "sh", "-c", script], { reject: false });
  expect(r.exitCode, `${script}: ${r.stderr}`).toBe(0);
  return r.stdout.trim();
}
/** Build containers of this file's images that appeared since the start (others' builds may come and go). */
const leaked = async (): Promise<string[]> => (await buildContainers()).filter((c) => !containersBefore.includes(c));

beforeAll(async () => {
  if (!existsSync(join(repo, "dist", "stdlib", "index.js"))) throw new Error("dist/ is missing: run npm run build:js first");
  await Promise.all([debianImage(), busyboxImage()]);
  dir = mkdtempSync(join(tmpdir(), "imgc-stdlib-apply-"));
  writeFileSync(join(dir, "images.ts"), IMAGES);
  containersBefore = await buildContainers();
}, 600_000);

afterAll(async () => {
  await execa("docker", ["rmi", "-f", `imgc-test/stdlib-deb:${tag}`, `imgc-test/stdlib-tiny:${tag}`], { reject: false });
  for (const id of checkers.values()) await execa("docker", ["rm", "-f", id], { reject: false });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("stdlib through imgc apply on the docker platform", () => {
  it("builds both images; the components did their work, with lazy values resolved by the runtime", async () => {
    const r = await imgc("apply", "images.ts");
    const output = `${r.stdout}\n${r.stderr}`;
    expect(r.exitCode, output).toBe(0);
    expect(output).toContain("2 built");
    expect(output).not.toContain("AAAAC3NzaC1lZDI1NTE5AAAAIFakeKey"); // the secret key never reaches the log
    for (const [image, os] of [[`imgc-test/stdlib-deb:${tag}`, "debian"], [`imgc-test/stdlib-tiny:${tag}`, "busybox"]] as const) {
      expect(await inImage(image, "cat /home/deploy/.ssh/authorized_keys")).toBe(KEY);
      expect(await inImage(image, "id -nG deploy")).toBe("deploy ops");
      expect(await inImage(image, "cat /etc/release; stat -c '%a %U' /etc/release")).toBe(`release=2.0 on ${os}\n600 deploy`);
      expect(await inImage(image, "cat /etc/motd")).toBe("image 2.0");
      expect(await inImage(image, "grep RELEASE /etc/systemd/system/app.service; readlink /etc/systemd/system/multi-user.target.wants/app.service")).toBe('Environment="RELEASE=2.0"\n/etc/systemd/system/app.service');
    }
    const deb = `imgc-test/stdlib-deb:${tag}`;
    expect(await inImage(deb, "dpkg-query -W -f='${Status}' sudo")).toBe("install ok installed");
    expect(await inImage(deb, "readlink /etc/localtime; cat /etc/default/locale")).toBe("/usr/share/zoneinfo/Asia/Tokyo\nLANG=C.UTF-8");
    expect(await inImage(`imgc-test/stdlib-tiny:${tag}`, "cat /etc/locale.conf")).toBe("LANG=C.UTF-8");
    expect(output).toContain("imgc reboot: this machine is a container; nothing to reboot, skipping");
    expect(await leaked()).toEqual([]);
  }, 900_000);

  it("a second apply is up to date; changing a component option rebuilds only that image", async () => {
    const again = await imgc("apply", "images.ts");
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toContain("0 built, 2 up to date");
    const plan = await imgc("plan", "images.ts", "--var", "release=2.1");
    expect(plan.stdout).toMatch(/stdlib-deb\.docker.*rebuild/);
    expect(plan.stdout).toMatch(/stdlib-tiny\.docker.*rebuild/);
    writeFileSync(join(dir, "images.ts"), IMAGES.replace('timezone("Asia/Tokyo"', 'timezone("Europe/Oslo"'));
    const plan2 = await imgc("plan", "images.ts");
    expect(plan2.stdout).toMatch(/stdlib-deb\.docker.*rebuild/);
    expect(plan2.stdout).toMatch(/stdlib-tiny\.docker.*up to date/);
  });

  it("a component that cannot work on the machine fails the build with its message, leaving nothing", async () => {
    writeFileSync(join(dir, "broken.ts"), `import { image } from "imgc";
import { docker } from "imgc/platforms/docker";
import { packages } from "imgc/stdlib";
export default image("stdlib-broken", {
  platforms: [docker({ image: "imgc-test/busybox:1", discard: true, network: "none" })],
  provision: [packages.install(["curl"])],
});
`);
    const r = await imgc("apply", "broken.ts");
    const output = `${r.stdout}\n${r.stderr}`;
    expect(r.exitCode, output).toBe(4);
    expect(output).toContain("imgc packages.install: no supported package manager on this machine");
    expect(output).toMatch(/broken\.ts:6:\d+/); // the failing step names the user's line
    expect(await leaked()).toEqual([]);
  });
});
