/**
 * Every stdlib component applied for real to a Debian bookworm minbase container, then checked
 * from outside (`docker run … id`, `stat`, `dpkg -s`, `sshd -T`, symlinks). The container runs
 * with the host network so apt reaches Debian's mirror (docker here has no bridge network).
 * Everything is applied twice: the second run must succeed and change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { debianImage } from "../support/docker-base.js";
import { cleanup, files, locale, packages, reboot, services, ssh, timezone, users } from "../../stdlib/index.js";
import { leftoverContainers, Machine, removeImages } from "./support/machine.js";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMaYjd6pQ8f0y3f0m3cGFu4s2b4q0n0gqOq7cQe4F2xR deploy@test";

let machine: Machine;
let image: string;
const images: string[] = [];
let dir: string;
let debianLinks: string;

const install = () => packages.install(["sudo", "openssh-server", "locales"]);

function configure() {
  writeFileSync(join(dir, "app.conf.tpl"), "port={{ port }}\nname={{name}}\ndebug={{ debug }}\n");
  writeFileSync(join(dir, "hello.sh"), "#!/bin/sh\necho hello\n");
  return [
    users.add("deploy", { shell: "/bin/bash", groups: ["adm", "deployers"], sudoer: true, authorizedKeys: [KEY], comment: "Deploy user" }),
    users.add("svc", { system: true, createHome: false, home: "/var/lib/svc", shell: "/usr/sbin/nologin" }),
    files.put("/etc/motd", { content: "built by imgc\n" }),
    files.put("/opt/app/bin/hello", { source: join(dir, "hello.sh"), mode: 0o755 }),
    files.put("/etc/app/app.conf", { template: join(dir, "app.conf.tpl"), values: { port: 8080, name: "web", debug: false }, owner: "deploy:deployers", mode: "0640", dirMode: 0o750 }),
    services.enable("app", { unit: { description: "Example app", execStart: "/opt/app/bin/hello", user: "deploy", restart: "on-failure", restartSec: 5, environment: { GREETING: 'say "hi"' }, after: ["network-online.target"], wants: ["network-online.target"] } }),
    services.disable("ssh", { offline: true }),
    services.enable("ssh", { offline: true }),
    ssh.harden({ allowGroups: ["adm"], ciphers: ["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com"] }),
    timezone("Europe/Paris"),
    locale("en_US.UTF-8", { also: ["fr_FR.UTF-8"] }),
    reboot(),
  ];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "imgc-stdlib-debian-"));
  machine = await Machine.start(await debianImage(), "host");
  // scripts/docker-base.sh currently imports the rootfs with `/` at mode 0700 (its mktemp -d
  // directory), so no user but root can run anything; fix that here until the base image does.
  if ((await machine.sh("stat -c %a /")).stdout.trim() !== "755") await machine.sh("chmod 755 /");
  // Traces a used machine leaves, for cleanup.forImage to remove.
  await machine.sh("echo secret-command > /root/.bash_history; echo 0123456789abcdef0123456789abcdef > /etc/machine-id; echo old > /var/log/old.log.1; echo line > /var/log/dpkg.log; mkdir -p /var/lib/cloud/instances/i-1");
  await machine.applyOk(packages.install(["less"]), packages.remove(["less"], { purge: true }));
  await machine.applyOk(install());
  // The links openssh-server's own maintainer scripts made (deb-systemd-helper), to compare with ours.
  debianLinks = (await machine.sh("readlink /etc/systemd/system/multi-user.target.wants/ssh.service /etc/systemd/system/sshd.service")).stdout.trim();
  await machine.applyOk(configure());
  await machine.applyOk(cleanup.forImage());
  images.push((image = await machine.commit()));
  checker = await Machine.start(image);
}, 600_000);

afterAll(async () => {
  await machine?.remove();
  await checker?.remove();
  await removeImages(images);
  rmSync(dir, { recursive: true, force: true });
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

describe("stdlib on Debian bookworm (real container, checked from outside)", () => {
  it("packages: installed, removed, caches cleaned", async () => {
    expect(await out("dpkg-query", "-W", "-f=${Status}", "sudo")).toBe("install ok installed");
    expect(await out("dpkg-query", "-W", "-f=${Status}", "openssh-server")).toBe("install ok installed");
    const less = await check("dpkg-query", "-W", "-f=${Status}", "less");
    expect(less.stdout).not.toContain("install ok installed");
    expect(await out("sh", "-c", "ls /var/lib/apt/lists | grep -v -e lock -e partial | wc -l")).toBe("0");
    expect(await out("sh", "-c", "ls /var/cache/apt/archives/*.deb 2>/dev/null | wc -l")).toBe("0");
  });

  it("users.add: account, groups, shell, home, keys, sudo rule", async () => {
    expect(await out("id", "-nG", "deploy")).toBe("deploy adm deployers");
    expect(await out("id", "-gn", "deploy")).toBe("deploy");
    expect(await out("getent", "passwd", "deploy")).toMatch(/^deploy:x:1000:\d+:Deploy user:\/home\/deploy:\/bin\/bash$/);
    expect(await out("stat", "-c", "%a %U:%G", "/home/deploy/.ssh", "/home/deploy/.ssh/authorized_keys")).toBe("700 deploy:deploy\n600 deploy:deploy");
    expect(await out("cat", "/home/deploy/.ssh/authorized_keys")).toBe(KEY);
    expect(await out("stat", "-c", "%a %U", "/etc/sudoers.d/90-imgc-deploy")).toBe("440 root");
    expect(await out("cat", "/etc/sudoers.d/90-imgc-deploy")).toBe("deploy ALL=(ALL) NOPASSWD: ALL");
    // sudo itself accepts the rule: deploy may run anything as root without a password.
    expect(await out("su", "deploy", "-c", "sudo -n id -u")).toBe("0");
    const svc = (await out("getent", "passwd", "svc")).split(":");
    expect(Number(svc[2])).toBeLessThan(1000);
    expect(svc.slice(5)).toEqual(["/var/lib/svc", "/usr/sbin/nologin"]);
    expect((await check("test", "-e", "/var/lib/svc")).exitCode).toBe(1);
  });

  it("files.put: content, local file, template; owner, modes", async () => {
    expect(await out("cat", "/etc/motd")).toBe("built by imgc");
    expect(await out("stat", "-c", "%a %U:%G", "/etc/motd", "/opt/app/bin/hello")).toBe("644 root:root\n755 root:root");
    expect(await out("/opt/app/bin/hello")).toBe("hello");
    expect(await out("cat", "/etc/app/app.conf")).toBe("port=8080\nname=web\ndebug=false");
    expect(await out("stat", "-c", "%a %U:%G", "/etc/app/app.conf", "/etc/app")).toBe("640 deploy:deployers\n750 root:root");
    expect(await out("sh", "-c", "ls /tmp | grep -c imgc-files || true")).toBe("0");
  });

  it("services.enable: unit written from options and enabled by symlink", async () => {
    const unit = await out("cat", "/etc/systemd/system/app.service");
    expect(unit).toContain("[Service]\nType=simple\nUser=deploy\nEnvironment=\"GREETING=say \\\"hi\\\"\"\nExecStart=/opt/app/bin/hello\nRestart=on-failure\nRestartSec=5");
    expect(unit).toContain("[Install]\nWantedBy=multi-user.target");
    expect(await out("readlink", "/etc/systemd/system/multi-user.target.wants/app.service")).toBe("/etc/systemd/system/app.service");
  });

  it("services.enable offline makes the links Debian's own enabler makes (ssh: WantedBy and Alias)", async () => {
    expect(debianLinks).toBe("/lib/systemd/system/ssh.service\n/lib/systemd/system/ssh.service");
    expect(await out("readlink", "/etc/systemd/system/multi-user.target.wants/ssh.service", "/etc/systemd/system/sshd.service")).toBe(debianLinks);
  });

  it("ssh.harden: drop-in read by sshd (sshd -T)", async () => {
    expect(await out("ls", "/etc/ssh/sshd_config.d")).toBe("01-imgc-harden.conf");
    // Host keys were removed by cleanup; sshd -T needs one, so make a throwaway key.
    const effective = await out("sh", "-c", "mkdir -p /run/sshd; ssh-keygen -q -t ed25519 -N '' -f /tmp/k && /usr/sbin/sshd -T -h /tmp/k");
    expect(effective).toMatch(/^permitrootlogin no$/m);
    expect(effective).toMatch(/^passwordauthentication no$/m);
    expect(effective).toMatch(/^kbdinteractiveauthentication no$/m);
    expect(effective).toMatch(/^ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com$/m);
    expect(effective).toMatch(/^allowgroups adm$/m);
    expect(effective).toMatch(/^maxauthtries 3$/m);
  });

  it("timezone and locale", async () => {
    expect(await out("readlink", "/etc/localtime")).toBe("/usr/share/zoneinfo/Europe/Paris");
    expect(await out("cat", "/etc/timezone")).toBe("Europe/Paris");
    expect(await out("date", "-d", "2024-01-15T12:00:00Z", "+%Z")).toBe("CET");
    const locales = (await out("locale", "-a")).split("\n");
    expect(locales).toEqual(expect.arrayContaining(["en_US.utf8", "fr_FR.utf8"]));
    expect(await out("cat", "/etc/default/locale")).toBe("LANG=en_US.UTF-8");
  });

  it("cleanup.forImage: machine-id, host keys, cloud-init, logs, apt lists, history", async () => {
    expect(await out("stat", "-c", "%s", "/etc/machine-id")).toBe("0");
    expect(await out("sh", "-c", "ls /etc/ssh/ssh_host_* 2>/dev/null | wc -l")).toBe("0");
    expect((await check("test", "-e", "/var/lib/cloud/instances")).exitCode).toBe(1);
    expect((await check("test", "-e", "/root/.bash_history")).exitCode).toBe(1);
    expect((await check("test", "-e", "/var/log/old.log.1")).exitCode).toBe(1);
    expect(await out("sh", "-c", "find /var/log -type f -size +0 | wc -l")).toBe("0");
  });

  it("everything applied a second time succeeds and changes nothing", async () => {
    const again = await Machine.start(image, "host");
    try {
      const before = await again.sh("cat /etc/passwd /etc/group /home/deploy/.ssh/authorized_keys /etc/sudoers.d/90-imgc-deploy /etc/ssh/sshd_config; ls -l /etc/ssh/sshd_config.d /etc/systemd/system/*.wants");
      const results = await again.applyOk(install(), configure(), packages.remove(["less"]));
      expect(results[0]!.stdout).toContain("already installed: sudo openssh-server locales");
      expect(results.some((r) => r.stdout.includes("deploy exists; updating it"))).toBe(true);
      expect(results.at(-1)!.stdout).toContain("not installed, nothing to remove");
      const after = await again.sh("cat /etc/passwd /etc/group /home/deploy/.ssh/authorized_keys /etc/sudoers.d/90-imgc-deploy /etc/ssh/sshd_config; ls -l /etc/ssh/sshd_config.d /etc/systemd/system/*.wants");
      expect(after.stdout.replace(/\d\d:\d\d/g, "")).toBe(before.stdout.replace(/\d\d:\d\d/g, ""));
    } finally {
      await again.remove();
    }
  });
});
