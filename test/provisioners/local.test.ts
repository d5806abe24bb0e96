import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCommunicator } from "../../runtime/communicators/local.js";
import { NoneCommunicator } from "../../runtime/communicators/none.js";
import { breakpointProvisioner } from "../../runtime/provisioners/breakpoint.js";
import { shellLocalProvisioner as shellLocal } from "../../runtime/provisioners/shell-local.js";
import { shellProvisioner } from "../../runtime/provisioners/shell.js";
import { provCtx } from "../support/prov-ctx.js";

const never = new AbortController().signal;
let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "imgc-local-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("shell-local", () => {
  it("runs inline commands here with env (hostile values intact) and build facts", async () => {
    const ctx = provCtx(new NoneCommunicator(), work, { facts: { host: "10.0.0.9", port: 2222, user: "admin" } });
    const env = { V: "$(touch /tmp/imgc-local-pwned) 'q' \"d\"\nnext" };
    await shellLocal.run({ inline: ['printf "%s|%s|%s" "$V" "$IMGC_HOST:$IMGC_PORT" "$IMGC_BUILD_NAME"'], env }, ctx, never);
    expect(ctx.log.stdout.join("")).toBe(`${env.V}|10.0.0.9:2222|web.null`);
    expect(existsSync("/tmp/imgc-local-pwned")).toBe(false);
  });

  it("runs a script, with set -e, in the project root", async () => {
    const script = join(work, "s.sh");
    writeFileSync(script, "pwd\nfalse\necho unreachable\n");
    const ctx = provCtx(new LocalCommunicator(), work);
    await expect(shellLocal.run({ script: { $path: script, rel: "s.sh" } }, ctx, never)).rejects.toThrow(/script .*s\.sh exited with code 1/);
    expect(ctx.log.stdout.join("")).toBe(`${work}\n`);
  });

  it("honours validExitCodes and timeout", async () => {
    const ctx = provCtx(new LocalCommunicator(), work);
    await shellLocal.run({ inline: ["exit 4"], validExitCodes: [4] }, ctx, never);
    await expect(shellLocal.run({ inline: ["sleep 30"], timeout: "300ms" }, ctx, never)).rejects.toThrow(/timeout of 0.3 s/);
    await expect(shellLocal.run({ inline: ["true"], script: "x" }, ctx, never)).rejects.toThrow(/exactly one/);
  });
});

describe("breakpoint", () => {
  it("says it is skipped when not interactive, or disabled", async () => {
    const ctx = provCtx(new NoneCommunicator(), work);
    await breakpointProvisioner.run({ note: "look at /etc" }, ctx, never);
    await breakpointProvisioner.run({ disable: true }, ctx, never);
    expect(ctx.log.lines).toEqual([
      "info: breakpoint: look at /etc skipped: not on an interactive terminal (or CI is set)",
      "info: breakpoint is disabled; going on",
    ]);
  });

  it("waits for Enter when interactive, and stops on abort", async () => {
    const input = new PassThrough();
    const impl = { ...breakpointProvisioner, input };
    const ctx = provCtx(new NoneCommunicator(), work, { interactive: true });
    let done = false;
    const waiting = impl.run({ note: "check" }, ctx, never).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(done).toBe(false);
    expect(ctx.log.lines[0]).toMatch(/breakpoint: check \(machine: 127\.0\.0\.1\): press Enter/);
    input.write("\n");
    await waiting;
    expect(done).toBe(true);
    const ac = new AbortController();
    const p = impl.run({}, ctx, ac.signal);
    ac.abort(new Error("interrupted"));
    await expect(p).rejects.toThrow("interrupted");
  });
});

describe("local and none communicators", () => {
  it("local copies files and directories with the trailing-slash rule", async () => {
    const comm = new LocalCommunicator();
    const src = join(work, "tree");
    rmSync(src, { recursive: true, force: true });
    await comm.upload(join(src, "a", "f"), Buffer.from("x"), { mode: 0o600 }, never);
    await comm.uploadDir(join(work, "copy1"), src, {}, never);
    await comm.uploadDir(join(work, "copy2"), src + "/", {}, never);
    expect(readFileSync(join(work, "copy1", "tree", "a", "f"), "utf8")).toBe("x");
    expect(readFileSync(join(work, "copy2", "a", "f"), "utf8")).toBe("x");
  });

  it("none refuses with a sentence that says why", async () => {
    const ctx = provCtx(new NoneCommunicator("the docker platform with discard"), work);
    await expect(shellProvisioner.run({ inline: ["true"] }, ctx, never)).rejects.toThrow(/The docker platform with discard has no communicator \(communicator "none"\), so it cannot upload files/);
  });
});
