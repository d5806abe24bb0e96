import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { SshCommunicator } from "../../runtime/communicators/ssh.js";
import { shellProvisioner as shell, type ShellRuntimeOptions } from "../../runtime/provisioners/shell.js";
import { provCtx } from "../support/prov-ctx.js";
import { commFor } from "../support/ssh-comm.js";
import { startSshd, type TestSshd } from "../support/sshd.js";

const never = new AbortController().signal;
let sshd: TestSshd;
let comm: SshCommunicator;
let work: string;
let remote: string; // remoteFolder for each test: the "machine" is this host, so we can look inside

beforeAll(async () => {
  sshd = await startSshd();
  work = mkdtempSync(join(tmpdir(), "imgc-shell-"));
  comm = commFor(sshd);
  await comm.connect(never);
});
afterAll(async () => {
  await comm?.close();
  await sshd?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});
let n = 0;
beforeEach(() => {
  remote = join(work, `remote-${n++}`);
  mkdirSync(remote);
});

async function run(o: ShellRuntimeOptions, signal = never) {
  const ctx = provCtx(comm, work);
  await shell.run({ remoteFolder: remote, ...o }, ctx, signal);
  return ctx.log;
}

describe("shell", () => {
  it("runs inline commands as one script with set -e, streaming output, and cleans up", async () => {
    const log = await run({ inline: ["echo one", "echo two >&2", "echo $IMGC_BUILD_NAME"] });
    expect(log.stdout.join("")).toBe("one\nweb.null\n");
    expect(log.stderr.join("")).toBe("two\n");
    expect(readdirSync(remote)).toEqual([]);
    await expect(run({ inline: ["false", "echo not reached"] })).rejects.toThrow(/inline script exited with code 1/);
  });

  it("uses inlineShebang", async () => {
    const log = await run({ inline: ['[[ "$BASH_VERSION" != "" ]] && echo bash'], inlineShebang: "/bin/bash -e" });
    expect(log.stdout.join("")).toBe("bash\n");
  });

  it("runs a script and several scripts in order", async () => {
    const a = join(work, "a.sh");
    const b = join(work, "b.sh");
    writeFileSync(a, "#!/bin/sh\necho from-a\n");
    writeFileSync(b, "#!/bin/sh\necho from-b \"$1$0\" | cut -c1-6\n");
    const log = await run({ scripts: [{ $path: a, rel: "a.sh" }, b] });
    expect(log.stdout.join("")).toBe("from-a\nfrom-b\n");
  });

  it("passes hostile env values intact, never in the command line, and deletes the env file", async () => {
    const env = { SUBST: "$(touch /tmp/imgc-shell-pwned)`id`", QUOTES: `a'b"c\\d'`, NL: "x\ny\n'; echo injected; '", SPACE: "  lead and trail  " };
    const log = await run({ env, inline: ['printf "%s|" "$SUBST" "$QUOTES" "$NL" "$SPACE"'] });
    expect(log.stdout.join("")).toBe(Object.values(env).join("|") + "|");
    expect(existsSync("/tmp/imgc-shell-pwned")).toBe(false);
    expect(readdirSync(remote)).toEqual([]);
    await expect(run({ env: { "BAD NAME": "x" }, inline: ["true"] })).rejects.toThrow(/not valid/);
  });

  it("fills {{.Vars}} and {{.Path}} in executeCommand, even inside quotes", async () => {
    const log = await run({
      env: { GREETING: "it's 'quoted'" },
      executeCommand: "env -i PATH=/usr/bin:/bin sh -c '{{ .Vars }} sh {{.Path}}'",
      inline: ['echo "$GREETING" "${HOME:-no-home}"'],
    });
    expect(log.stdout.join("")).toBe("it's 'quoted' no-home\n");
    await expect(run({ executeCommand: "{{.Foo}} {{.Path}}", inline: ["true"] })).rejects.toThrow(/only \{\{\.Vars\}\} and \{\{\.Path\}\}/);
  });

  it("uploads to remoteFolder and keeps the script with skipClean", async () => {
    const log = await run({ inline: ['echo "$0"'], skipClean: true, env: { A: "1" } });
    const path = log.stdout.join("").trim();
    expect(path.startsWith(remote + "/imgc-script-")).toBe(true);
    // The script stays; the env file (which may hold secrets) never does.
    expect(readdirSync(remote)).toEqual([path.slice(remote.length + 1)]);
    await expect(run({ inline: ["true"], remoteFolder: "/tmp/it's" })).rejects.toThrow(/remoteFolder/);
  });

  it("accepts validExitCodes", async () => {
    await run({ inline: ["exit 3"], validExitCodes: [0, 3] });
    await expect(run({ inline: ["exit 3"], validExitCodes: [0, 4] })).rejects.toThrow(/exited with code 3 \(valid: 0, 4\)/);
  });

  it("retries the whole script maxRetries times", async () => {
    const counter = join(work, "counter");
    const inline = [`n=$(cat ${counter} 2>/dev/null || echo 0)`, `echo $((n+1)) > ${counter}`, `[ $n -ge 2 ]`];
    await expect(run({ inline, maxRetries: 1 })).rejects.toThrow(/exited with code 1/);
    expect(readFileSync(counter, "utf8").trim()).toBe("2");
    rmSync(counter);
    const log = await run({ inline, maxRetries: 2 });
    expect(readFileSync(counter, "utf8").trim()).toBe("3");
    expect(log.lines.filter((l) => l.includes("retrying"))).toHaveLength(2);
  });

  it("stops a script that outlives its timeout, and kills it", async () => {
    const pidFile = join(work, "timeout-pid");
    await expect(run({ inline: [`echo $$ > ${pidFile}`, "sleep 60"], timeout: "1s" })).rejects.toThrow(/ran longer than its timeout of 1 s/);
    const pid = Number(readFileSync(pidFile, "utf8"));
    for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(readdirSync(remote)).toEqual([]);
  });

  it("waits pauseBefore", async () => {
    const log = await run({ inline: ["true"], pauseBefore: "200ms" });
    expect(log.lines).toContain("info: pausing 0.2 s before starting");
  });

  it("honours the build's abort", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("interrupted")), 500);
    await expect(run({ inline: ["sleep 60"] }, ac.signal)).rejects.toThrow("interrupted");
  });
});

describe("shell expectDisconnect", () => {
  async function rebootDuring(o: ShellRuntimeOptions) {
    const marker = join(work, `rebooting-${n}`);
    const ctx = provCtx(comm, work);
    const running = shell.run({ remoteFolder: remote, inline: [`touch ${marker}`, "sleep 60"], ...o }, ctx, never);
    running.catch(() => {}); // Awaited by the test; this only keeps it from being reported as unhandled meanwhile.
    while (!existsSync(marker)) await new Promise((r) => setTimeout(r, 50));
    await sshd.restart();
    return { running, ctx };
  }

  it("takes a lost connection as success and reconnects", async () => {
    const { running, ctx } = await rebootDuring({ expectDisconnect: true });
    await running;
    expect(ctx.log.text()).toMatch(/connection lost as expected; reconnecting/);
    // The communicator works again for the next provisioner.
    const log = await run({ inline: ["echo after reboot"] });
    expect(log.stdout.join("")).toBe("after reboot\n");
  });

  it("fails on a lost connection when not expected", async () => {
    const { running } = await rebootDuring({});
    await expect(running).rejects.toThrow(/connection was lost while inline script ran \(set expectDisconnect: true/);
    await comm.reconnect(never);
  });
});
