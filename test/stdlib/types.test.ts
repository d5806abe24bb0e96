/**
 * The components' types as users meet them: a definitions file using every component and most
 * options type-checks clean with `imgc validate`'s checker (compiler/typecheck.ts, the real
 * TypeScript checker), and a wrong option is a type error at the user's line.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { typecheck } from "../../compiler/typecheck.js";

const dir = mkdtempSync(join(tmpdir(), "imgc-stdlib-types-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "p", type: "module", private: true }));

const HEADER = `import { image, variable, secret, t } from "imgc";
import { docker } from "imgc/platforms/docker";
import { shell } from "imgc/provisioners";
import { apt, cleanup, files, locale, packages, reboot, services, ssh, timezone, users, type ServiceUnit } from "imgc/stdlib";
`;

const GOOD = `${HEADER}
const version = variable("version", { type: "string", default: "1" });
const port = variable("port", { type: "number", default: 80 });
const unit: ServiceUnit = { description: "App", execStart: t\`/usr/local/bin/app --version \${version}\`, restart: "on-failure", restartSec: 5, environment: { TOKEN: secret("token") } };
export default image("all", {
  platforms: [docker({ image: "local/debian:12", commit: true })],
  provision: [
    packages.upgrade({ full: true }),
    packages.install(["nginx", version], { manager: "apt", recommends: false, cleanCache: true, sudo: true }),
    packages.remove(["exim4"], { purge: true, autoremove: true, only: ["docker"] }),
    apt.install(["curl"]),
    users.add("deploy", { uid: 1500, groups: ["adm"], shell: "/bin/bash", sudoer: { nopasswd: true, commands: ["ALL"] }, authorizedKeys: [secret("key")], exclusiveKeys: true }),
    files.put("/etc/motd", { content: t\`v\${version}\\n\` }),
    files.put("/etc/app.conf", { templateText: "port={{ port }}", values: { port }, owner: "deploy:deploy", mode: "0640" }),
    files.put("/usr/local/bin/x", { source: new URL("file:///etc/hostname"), mode: 0o755 }),
    services.enable("app", { unit, now: false }),
    services.disable("apt-daily.timer"),
    ssh.harden({ permitRootLogin: "prohibit-password", ciphers: ["aes256-gcm@openssh.com"], allowUsers: ["deploy"], extra: { ClientAliveInterval: "300" } }),
    timezone("UTC"),
    locale("en_US.UTF-8", { also: ["fr_FR.UTF-8"] }),
    reboot({ pauseAfter: "30s", except: ["docker"] }),
    cleanup.forImage({ sshHostKeys: false }),
    shell({ inline: ["true"] }),
  ],
});
`;

describe("stdlib types in a user's definitions", () => {
  it("every component and option type-checks", () => {
    writeFileSync(join(dir, "images.ts"), GOOD);
    const { errors } = typecheck(join(dir, "images.ts"));
    expect(errors.map((e) => `${e.site?.line}: ${e.message}`)).toEqual([]);
  });

  it("wrong options are type errors at the user's line", () => {
    writeFileSync(join(dir, "bad.ts"), `${HEADER}
export default image("bad", {
  platforms: [docker({ image: "x", commit: true })],
  provision: [
    packages.install(["nginx"], { manager: "pacman" }),
    files.put("/etc/x", { content: "a", source: "./b" }),
    ssh.harden({ permitRootLogin: "yes" }),
    services.enable("app", { unit: { execStart: "/bin/app" } }),
  ],
});
`);
    const { errors } = typecheck(join(dir, "bad.ts"));
    const lines = errors.map((e) => e.site?.line).sort((a, b) => (a ?? 0) - (b ?? 0));
    expect(lines).toEqual([9, 10, 11, 12]);
    expect(errors.every((e) => e.code === "IMGC_TYPE" && e.site?.file === join(dir, "bad.ts"))).toBe(true);
  });
});
