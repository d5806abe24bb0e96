/**
 * The stdlib on an Alpine-like minimal image: Debian's static busybox in an otherwise empty
 * rootfs. Debian 12 ships no apk-tools, so there is no package manager: the package components
 * must fail with a clear message, and the others must work without the usual tools (no useradd,
 * no systemctl), as on Alpine without the `shadow` package. Checked from outside.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { busyboxImage } from "../support/docker-base.js";
import { cleanup, files, locale, packages, reboot, services, ssh, timezone, users } from "../../stdlib/index.js";
import { leftoverContainers, Machine, removeImages } from "./support/machine.js";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMaYjd6pQ8f0y3f0m3cGFu4s2b4q0n0gqOq7cQe4F2xR ops@test";

let base: string;
let machine: Machine;
let image: string;
const images: string[] = [];

const configure = () => [
  users.add("ops", { groups: ["wheel", "ops-team"], authorizedKeys: [KEY], shell: "/bin/sh" }),
  users.add("daemon1", { system: true, createHome: false, home: "/nonexistent" }),
  files.put("/etc/app/app.env", { templateText: "PORT={{ port }}\n", values: { port: 9000 }, owner: "ops:ops", mode: 0o600 }),
  services.enable("app", { unit: { description: "App", execStart: "/bin/true", type: "oneshot", remainAfterExit: true, wantedBy: ["multi-user.target", "custom.target"] } }),
  locale("C.UTF-8"),
  reboot(),
];

beforeAll(async () => {
  base = await busyboxImage();
  machine = await Machine.start(base);
  await machine.applyOk(configure());
  await machine.sh("mkdir -p /var/log && echo x > /var/log/messages && echo h > /root/.ash_history");
  await machine.applyOk(cleanup.forImage());
  images.push((image = await machine.commit()));
  checker = await Machine.start(image);
}, 300_000);

afterAll(async () => {
  await machine?.remove();
  await checker?.remove();
  await removeImages(images);
  expect(await leftoverContainers()).toEqual([]);
});

// Checks run in one fresh container of the committed image (one container, not one per check:
// with the vfs storage driver every container start copies the whole image).
let checker: Machine;
const check = (...argv: string[]) => checker.exec(argv);
const out = async (...argv: string[]): Promise<string> => {
  const r = await check(...argv);
  expect(r.exitCode, `${argv.join(" ")}: ${r.stderr}`).toBe(0);
  return r.stdout.trim();
};

describe("stdlib on a busybox-only image (no package manager, no shadow tools, no systemd)", () => {
  it("packages.*: no package manager is a clear failure, naming what was looked for", async () => {
    const m = await Machine.start(base);
    try {
      const [auto] = await m.apply(packages.install(["curl"]));
      expect(auto!.exitCode).toBe(3);
      expect(auto!.stderr).toContain("imgc packages.install: no supported package manager on this machine (looked for apt-get, dnf, yum, apk");
      const [apk] = await m.apply(packages.install(["curl"], { manager: "apk" }));
      expect(apk!.exitCode).toBe(3);
      expect(apk!.stderr).toContain("the apk package manager was asked for but apk is not on this machine");
      const [up] = await m.apply(packages.upgrade());
      expect(up!.stderr).toContain("imgc packages.upgrade: no supported package manager");
    } finally {
      await m.remove();
    }
  });

  it("users.add without useradd: passwd, group, home and keys written directly", async () => {
    expect(await out("id", "ops")).toBe("uid=1000(ops) gid=1002(ops) groups=1002(ops),1000(wheel),1001(ops-team)");
    expect(await out("grep", "^ops:", "/etc/passwd")).toBe("ops:x:1000:1002::/home/ops:/bin/sh");
    expect(await out("stat", "-c", "%a %U:%G", "/home/ops", "/home/ops/.ssh", "/home/ops/.ssh/authorized_keys")).toBe("750 ops:ops\n700 ops:ops\n600 ops:ops");
    expect(await out("cat", "/home/ops/.ssh/authorized_keys")).toBe(KEY);
    const daemon = (await out("grep", "^daemon1:", "/etc/passwd")).split(":");
    expect(Number(daemon[2])).toBeGreaterThanOrEqual(100);
    expect(Number(daemon[2])).toBeLessThan(1000);
  });

  it("files.put and services.enable (symlinks with no systemctl)", async () => {
    expect(await out("cat", "/etc/app/app.env")).toBe("PORT=9000");
    expect(await out("stat", "-c", "%a %U:%G", "/etc/app/app.env")).toBe("600 ops:ops");
    expect(await out("sh", "-c", "readlink /etc/systemd/system/multi-user.target.wants/app.service; readlink /etc/systemd/system/custom.target.wants/app.service")).toBe("/etc/systemd/system/app.service\n/etc/systemd/system/app.service");
  });

  it("locale writes /etc/locale.conf; reboot is skipped in a container", async () => {
    expect(await out("cat", "/etc/locale.conf")).toBe("LANG=C.UTF-8");
    const m = await Machine.start(base);
    try {
      const [skip] = await m.applyOk(reboot());
      expect(skip!.stdout).toContain("imgc reboot: this machine is a container; nothing to reboot, skipping");
      const [fail] = await m.apply(reboot({ inContainer: "fail" }));
      expect(fail!.exitCode).toBe(3);
      expect(fail!.stderr).toContain("imgc reboot: this machine is a container, which cannot reboot");
    } finally {
      await m.remove();
    }
  });

  it("ssh.harden and timezone say what is missing", async () => {
    const m = await Machine.start(base);
    try {
      const [h] = await m.apply(ssh.harden());
      expect(h!.exitCode).toBe(3);
      expect(h!.stderr).toContain("imgc ssh.harden: /etc/ssh/sshd_config not found: install the OpenSSH server first");
      const [tz] = await m.apply(timezone("Europe/Paris"));
      expect(tz!.exitCode).toBe(3);
      expect(tz!.stderr).toContain("imgc timezone: no zone data for Europe/Paris at /usr/share/zoneinfo/Europe/Paris: install tzdata first");
    } finally {
      await m.remove();
    }
  });

  it("cleanup.forImage works without the tools it would use elsewhere", async () => {
    expect(await out("stat", "-c", "%s", "/var/log/messages")).toBe("0");
    expect((await check("test", "-e", "/root/.ash_history")).exitCode).toBe(1);
  });

  it("applying again changes nothing (no duplicate entries or group members)", async () => {
    const again = await Machine.start(image);
    try {
      const snapshot = "cat /etc/passwd /etc/group /home/ops/.ssh/authorized_keys; ls -l /etc/systemd/system/*.wants";
      const before = await again.sh(snapshot);
      const results = await again.applyOk(configure());
      expect(results.some((r) => r.stdout.includes("ops exists; updating it"))).toBe(true);
      expect((await again.sh(snapshot)).stdout.replace(/\d\d:\d\d/g, "")).toBe(before.stdout.replace(/\d\d:\d\d/g, ""));
    } finally {
      await again.remove();
    }
  });
});
