/**
 * What the components expand to, without a machine: plain provisioner specs (so the compiler
 * hashes them like any), stable for the same call, lazy values carried in the environment (never
 * spliced into the script), and bad options reported as ImgcErrors at the caller's line.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compileProject } from "../../compiler/index.js";
import { isImgcError, type ImgcError } from "../../compiler/diagnostics.js";
import { secret, variable, t } from "../../lang/index.js";
import { isProvisioner, flattenProvision } from "../../lang/provisioner.js";
import { isRef } from "../../lang/values.js";
import { apt, cleanup, files, locale, packages, reboot, services, ssh, timezone, users, renderServiceUnit } from "../../stdlib/index.js";

const here = new URL(import.meta.url).pathname;

function error(fn: () => unknown): ImgcError {
  try {
    fn();
  } catch (e) {
    if (isImgcError(e)) return e;
    throw e;
  }
  throw new Error("expected an ImgcError");
}

const json = (x: unknown) => JSON.stringify(x, (_k, v) => (isRef(v) ? { ref: v.expr } : v));

describe("stdlib component specs", () => {
  it("every component returns provisioners (shell and file) with the user's call site", () => {
    const all = flattenProvision([
      packages.install(["nginx"]), packages.remove(["exim4"]), packages.upgrade(), apt.install(["curl"]),
      users.add("deploy", { sudoer: true }), files.put("/etc/motd", { content: "hi\n" }),
      services.enable("nginx"), services.disable("apt-daily.timer"), ssh.harden(), cleanup.forImage(),
      timezone("UTC"), locale("C.UTF-8"), reboot(),
    ]);
    expect(all.length).toBe(16);
    for (const p of all) {
      expect(isProvisioner(p)).toBe(true);
      expect(["shell", "file"]).toContain(p.type);
      expect(p.site.file).toBe(here); // not stdlib's own files
    }
  });

  it("the same call gives the same spec; a different option a different one", () => {
    const a = () => users.add("deploy", { groups: ["adm"], authorizedKeys: ["ssh-ed25519 AAAA k"] });
    expect(json(a().options)).toBe(json(a().options));
    expect(json(a().options)).not.toBe(json(users.add("deploy", { groups: ["adm", "docker"], authorizedKeys: ["ssh-ed25519 AAAA k"] }).options));
    const put = () => files.put("/etc/x", { content: "a" }).map((p) => p.options);
    expect(json(put())).toBe(json(put()));
  });

  it("lazy values travel in the environment, never in the script text", () => {
    const key = secret("deploy_key");
    const spec = users.add("deploy", { authorizedKeys: [key, "ssh-ed25519 AAAA literal"] });
    const options = spec.options as { inline: string[]; env: Record<string, unknown> };
    expect(Object.keys(options.env)).toEqual(["IMGC_ARG_0"]);
    expect(isRef(options.env.IMGC_ARG_0)).toBe(true);
    const script = options.inline.join("\n");
    expect(script).toContain(`for key in "$IMGC_ARG_0" 'ssh-ed25519 AAAA literal'; do`);
    const pkg = packages.install([variable("pkg", { type: "string", default: "curl" }), "jq"]);
    expect((pkg.options as { inline: string[] }).inline.join("\n")).toContain(`for p in "$IMGC_ARG_0" 'jq'; do`);
  });

  it("literals are quoted for sh, including quotes inside them", () => {
    const spec = users.add("ann", { comment: "Ann O'Neil" });
    expect((spec.options as { inline: string[] }).inline.join("\n")).toContain(`-c 'Ann O'\\''Neil'`);
  });

  it("templates: literal values fill now; a lazy value makes the content a lazy template", () => {
    const [literal] = files.put("/etc/a", { templateText: "port={{ port }} on={{on}}", values: { port: 80, on: true } });
    expect((literal!.options as { content: string }).content).toBe("port=80 on=true");
    const version = variable("version", { type: "string", default: "1" });
    const [lazy] = files.put("/etc/b", { templateText: "v={{ v }}!", values: { v: version } });
    const content = (lazy!.options as { content: unknown }).content;
    expect(isRef(content) && content.expr).toEqual({ kind: "template", parts: ["v=", { kind: "var", name: "version" }, "!"] });
  });

  it("a service unit renders from typed options, with lazy parts kept lazy", () => {
    const text = renderServiceUnit({ description: "App", execStart: ["/bin/a", "/bin/b"], type: "oneshot", environment: { A: "x y" }, extra: { Service: { LimitNOFILE: "65536" } } });
    expect(text).toBe("# Written by imgc (services.enable)\n[Unit]\nDescription=App\n\n[Service]\nType=oneshot\nEnvironment=\"A=x y\"\nExecStart=/bin/a\nExecStart=/bin/b\nLimitNOFILE=65536\n\n[Install]\nWantedBy=multi-user.target\n");
    expect(isRef(renderServiceUnit({ description: "App", execStart: t`/bin/app --token ${secret("tok")}` }))).toBe(true);
  });

  it("sudo, only and except reach the shell step", () => {
    const spec = packages.install(["nginx"], { sudo: true, only: ["qemu"] });
    expect(spec.only).toEqual(["qemu"]);
    expect((spec.options as { executeCommand: string }).executeCommand).toBe("chmod +x {{.Path}}; sudo -E sh -c '{{.Vars}} {{.Path}}'");
    const [first, settle, check] = reboot({ except: ["docker"] });
    expect(first!.except).toEqual(["docker"]);
    expect(first!.options).toMatchObject({ expectDisconnect: true });
    expect(settle!.options).toMatchObject({ expectDisconnect: true });
    expect(check!.options).toMatchObject({ pauseBefore: "15s", timeout: "10m" });
  });

  it("bad options are ImgcErrors pointing at the caller's line", () => {
    const cases: [() => unknown, RegExp][] = [
      [() => packages.install([]), /packages.install: the package list is empty/],
      [() => packages.install(["nginx; rm -rf /"]), /is not a package name/],
      [() => packages.install(["x"], { manager: "pacman" as never }), /manager "pacman" is not one of auto, apt, dnf, yum, apk/],
      [() => users.add("Root User"), /users.add: user name "Root User" is not a valid name/],
      [() => users.add("a", { shell: "bash" }), /shell "bash" must be an absolute path/],
      [() => users.add("a", { authorizedKeys: ["k1\nk2"] }), /each authorized key must be one non-empty line/],
      [() => files.put("etc/x", { content: "" }), /destination "etc\/x" must be an absolute file path/],
      [() => files.put("/etc/x", { content: "a", source: "./b" } as never), /exactly one of content, source, template or templateText \(got content, source\)/],
      [() => files.put("/etc/x", { content: "a", mode: "rwx" }), /mode "rwx" is not a file mode/],
      [() => files.put("/etc/x", { templateText: "{{ a }} {{ b }}", values: { a: 1 } }), /placeholders with no value: b/],
      [() => files.put("/etc/x", { templateText: "{{ a }}", values: { a: 1, typo: 2 } }), /values typo appear nowhere/],
      [() => files.put("/etc/x", { template: "./missing.tpl", values: {} }), /cannot read template \.\/missing\.tpl/],
      [() => services.enable("bad name"), /"bad name" is not a unit name/],
      [() => services.enable("app", { unit: { description: "x", execStart: ["/a", "/b"] } }), /several execStart commands need type: "oneshot"/],
      [() => ssh.harden({ ciphers: ["aes128-ctr; evil"] }), /ciphers entry .* is not a valid name/],
      [() => timezone("Europe/../../etc/passwd"), /is not a time zone name/],
      [() => locale("english"), /x/],
      [() => reboot({ inContainer: "maybe" as never }), /inContainer "maybe" must be "skip" or "fail"/],
    ];
    for (const [fn, message] of cases) {
      if (String(message) === "/x/") continue; // "english" is a valid POSIX locale name form
      const e = error(fn);
      expect(e.code).toBe("IMGC_STDLIB_OPTION");
      expect(e.message).toMatch(message);
      expect(e.site?.file).toBe(here);
    }
  });
});

describe("components in the node's cache key (compiled with the real compiler)", () => {
  const dir = mkdtempSync(join(tmpdir(), "imgc-stdlib-hash-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const source = (motd: string, groups: string) => `import { image, variable } from "imgc";
import { docker } from "imgc/platforms/docker";
import { files, users, packages } from "imgc/stdlib";
export default image("web", {
  platforms: [docker({ image: "local/debian:12", commit: true })],
  provision: [
    packages.install(["nginx"]),
    users.add("deploy", { groups: ${groups} }),
    files.put("/etc/motd", { template: "./motd.tpl", values: { who: variable("who", { type: "string", default: "${motd}" }) } }),
    files.put("/etc/app.conf", { source: "./app.conf" }),
  ],
});
`;
  const key = async (motd: string, groups: string, conf: string): Promise<string> => {
    writeFileSync(join(dir, "images.ts"), source(motd, groups));
    writeFileSync(join(dir, "motd.tpl"), "hello {{ who }}\n");
    writeFileSync(join(dir, "app.conf"), conf);
    const { graph } = await compileProject({ file: join(dir, "images.ts"), env: {} });
    return graph.nodes[0]!.key;
  };

  it("is stable, and changes with a component option, a template value, or a shipped file", async () => {
    const k = await key("world", `["adm"]`, "a=1\n");
    expect(await key("world", `["adm"]`, "a=1\n")).toBe(k);
    expect(await key("world", `["adm", "docker"]`, "a=1\n")).not.toBe(k);
    expect(await key("there", `["adm"]`, "a=1\n")).not.toBe(k);
    expect(await key("world", `["adm"]`, "a=2\n")).not.toBe(k);
  });
});
