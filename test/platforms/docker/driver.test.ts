/**
 * The docker driver on the real engine, its steps run directly: commit with changes, export,
 * discard, builds from an upstream image, the communicator's transfers, and no container left
 * after success, a failing provisioner or an abort mid-provision.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EngineBackend } from "../../../runtime/platforms/docker/backend-engine.js";
import { BUILD_LABEL } from "../../../runtime/platforms/docker/backend.js";
import driver from "../../../runtime/platforms/docker/driver.js";
import type { DockerOptions } from "../../../runtime/platforms/docker/factory.js";
import type { Communicator } from "../../../runtime/types.js";
import { busyboxImage } from "../../support/docker-base.js";
import { build, testEnv, testNode } from "./harness.js";

const backend = new EngineBackend();
const made: string[] = [];
let base: string;
const tag = `${process.pid}`;

async function sh(comm: Communicator, command: string, signal: AbortSignal, extra: { env?: Record<string, string>; user?: string; workdir?: string } = {}): Promise<string> {
  let out = "";
  let err = "";
  const r = await comm.exec({ command, ...extra, onStdout: (c) => (out += c), onStderr: (c) => (err += c) }, signal);
  if (r.exitCode !== 0) throw new Error(`\`${command}\` exited ${r.exitCode}: ${err}`);
  return out;
}

/** Containers still carrying the build label of `node`. */
const leftovers = (node: string): Promise<string[]> => backend.listContainers(`${BUILD_LABEL}=${node}`);

function dockerRun(image: string, command: string): string {
  return execFileSync("docker", ["run", "--rm", "--network", "none", image, "/bin/sh", "-c", command], { encoding: "utf8" });
}

beforeAll(async () => {
  base = await busyboxImage(backend);
});
afterAll(async () => {
  for (const id of made) await backend.removeImage(id, { force: true });
});

describe("docker driver on the real engine", () => {
  it("commits with structured changes visible in the image config, keeps the source's CMD, and leaves no container", async () => {
    const id = `commit-${tag}.docker`;
    const options: DockerOptions = {
      image: base,
      commit: true,
      network: "none",
      env: { BUILD_ONLY: "not-committed" },
      changes: {
        env: { APP_MODE: "prod value" },
        labels: { "org.example.team": "infra" },
        expose: [8080, "53/udp"],
        workdir: "/srv",
        volumes: ["/data"],
        onbuild: ["RUN echo child"],
      },
      message: "built by a test",
      author: "imgc tests",
    };
    const env = testEnv(testNode(id, options));
    const { result, artifact, trace } = await build(driver, env, async (comm, signal) => {
      await sh(comm, 'mkdir -p /srv && echo "$BUILD_ONLY" > /srv/build-env', signal);
    });
    expect(result.outcome).toBe("ok");
    made.push(artifact!.id);
    expect(trace).toEqual(["pull", "run container", "provision", "commit", "cleanup commit", "cleanup run container"]);
    const info = await backend.inspectImage(artifact!.id);
    expect(info!.config.env).toContain("APP_MODE=prod value");
    expect(info!.config.env.some((e) => e.startsWith("BUILD_ONLY="))).toBe(false);
    expect(info!.config.labels["org.example.team"]).toBe("infra");
    expect(info!.config.labels["imgc.build"]).toBe("");
    expect(info!.config.labels["imgc.commit"]).toMatch(/^imgc-commit-\d+\.docker-[0-9a-f]{8}$/);
    expect([...info!.config.exposedPorts].sort()).toEqual(["53/udp", "8080/tcp"]);
    expect(info!.config.workdir).toBe("/srv");
    expect(info!.config.volumes).toEqual(["/data"]);
    expect(info!.config.onBuild).toEqual(["RUN echo child"]);
    expect(info!.config.cmd).toEqual(["/bin/sh"]);
    expect(info!.config.entrypoint ?? []).toEqual([]);
    expect(dockerRun(artifact!.id, "cat /srv/build-env")).toBe("not-committed\n");
    expect(await leftovers(id)).toEqual([]);
    expect(env.tracked.size).toBe(0);
    expect(await driver.exists!(artifact!, { projectRoot: env.projectRoot, log: env.log }, new AbortController().signal)).toBe(true);
  });

  it("builds from an upstream image's id, then destroy removes the image and exists says so", async () => {
    const upId = `up-${tag}.docker`;
    const upEnv = testEnv(testNode(upId, { image: base, commit: true, network: "none" }));
    const up = await build(driver, upEnv, (comm, s) => sh(comm, "echo base > /layer", s).then(() => {}));
    made.push(up.artifact!.id);
    const id = `down-${tag}.docker`;
    const env = testEnv(testNode(id, { commit: true, network: "none", changes: ["LABEL stage=app"] }, upId), { [upId]: up.artifact! });
    const down = await build(driver, env, (comm, s) => sh(comm, "cat /layer > /copied", s).then(() => {}));
    expect(down.result.outcome).toBe("ok");
    expect(down.ctx.fromUpstream).toBe(true);
    expect(dockerRun(down.artifact!.id, "cat /copied")).toBe("base\n");
    const aenv = { projectRoot: env.projectRoot, log: env.log };
    const signal = new AbortController().signal;
    await driver.destroy!(down.artifact!, aenv, signal);
    expect(await driver.exists!(down.artifact!, aenv, signal)).toBe(false);
    await driver.destroy!(down.artifact!, aenv, signal); // already gone: not an error
  });

  it("exports the filesystem to a tar and leaves neither container nor image", async () => {
    const id = `export-${tag}.docker`;
    const env = testEnv(testNode(id, { image: base, exportPath: "out/rootfs.tar", network: "none" }));
    const before = (await backend.inspectImage(base))!.id;
    const { result, artifact } = await build(driver, env, (comm, s) => sh(comm, "echo exported > /proof", s).then(() => {}));
    expect(result.outcome).toBe("ok");
    const tar = join(env.projectRoot, "out/rootfs.tar");
    expect(artifact).toMatchObject({ id: tar, files: [tar], data: { mode: "export" } });
    const listing = execFileSync("tar", ["-tf", tar], { encoding: "utf8" }).split("\n");
    expect(listing).toContain("proof");
    expect(execFileSync("tar", ["-xOf", tar, "proof"], { encoding: "utf8" })).toBe("exported\n");
    expect(await leftovers(id)).toEqual([]);
    expect((await backend.inspectImage(base))!.id).toBe(before);
  });

  it("discards: provisioners run, nothing is kept", async () => {
    const id = `discard-${tag}.docker`;
    let ran = false;
    const { result, artifact } = await build(driver, testEnv(testNode(id, { image: base, discard: true, network: "none" })), async (comm, s) => {
      ran = (await sh(comm, "echo ran", s)) === "ran\n";
    });
    expect(result.outcome).toBe("ok");
    expect(ran).toBe(true);
    expect(artifact).toBeUndefined();
    expect(await leftovers(id)).toEqual([]);
  });

  it("a failing provisioner fails the build and leaves no container", async () => {
    const id = `fail-${tag}.docker`;
    const { result } = await build(driver, testEnv(testNode(id, { image: base, commit: true, network: "none" })), (comm, s) => sh(comm, "exit 7", s).then(() => {}));
    expect(result.outcome).toBe("failed");
    expect(result.error?.message).toContain("exited 7");
    expect(await leftovers(id)).toEqual([]);
  });

  it("an abort mid-provision cancels the build and leaves no container", async () => {
    const id = `abort-${tag}.docker`;
    const ac = new AbortController();
    const pending = build(driver, testEnv(testNode(id, { image: base, commit: true, network: "none" })), async (comm, s) => {
      setTimeout(() => ac.abort(), 300);
      await sh(comm, "sleep 60", s);
    }, ac.signal);
    const { result } = await pending;
    expect(result.outcome).toBe("cancelled");
    expect(await leftovers(id)).toEqual([]);
  });

  it("a missing source image with pull: false is a clear error, with nothing left", async () => {
    const id = `nopull-${tag}.docker`;
    const { result } = await build(driver, testEnv(testNode(id, { image: "imgc-test/absent:0", pull: false, commit: true })), async () => {});
    expect(result.outcome).toBe("failed");
    expect(result.error?.message).toMatch(/imgc-test\/absent:0 is not present locally and pull is false/);
    expect(await leftovers(id)).toEqual([]);
  });
});

describe("docker communicator on the real engine", () => {
  it("moves files and directories both ways, honours env, user, workdir, mode and owner", async () => {
    const id = `comm-${tag}.docker`;
    const src = mkdtempSync(join(tmpdir(), "imgc-comm-src-"));
    mkdirSync(join(src, "tree/sub"), { recursive: true });
    writeFileSync(join(src, "tree/a.txt"), "A");
    writeFileSync(join(src, "tree/sub/b.sh"), "#!/bin/sh\necho b\n");
    chmodSync(join(src, "tree/sub/b.sh"), 0o755);
    writeFileSync(join(src, "single.txt"), "single");
    const out = mkdtempSync(join(tmpdir(), "imgc-comm-out-"));
    const { result } = await build(driver, testEnv(testNode(id, { image: base, discard: true, network: "none", env: { FROM_OPTIONS: "yes" } })), async (comm, s) => {
      await comm.uploadDir("/opt/into", join(src, "tree"), {}, s); // the directory itself
      await comm.uploadDir("/opt/contents", join(src, "tree") + "/", {}, s); // its contents
      await comm.upload("/new/dir/single.txt", join(src, "single.txt"), { mode: 0o600 }, s);
      await comm.upload("/tmp/from-buffer", Buffer.from("buf"), {}, s);
      await comm.upload("/tmp/owned", Buffer.from("o"), { owner: "nobody" }, s);
      expect(await sh(comm, "cat /opt/into/tree/a.txt /opt/contents/a.txt", s)).toBe("AA");
      expect(await sh(comm, "/opt/contents/sub/b.sh", s)).toBe("b\n");
      expect(await sh(comm, "stat -c %a /new/dir/single.txt", s)).toBe("600\n");
      expect(await sh(comm, "stat -c %U /tmp/owned", s)).toBe("nobody\n");
      expect(await sh(comm, 'echo "$FROM_OPTIONS $OWN"', s, { env: { OWN: "it's \"quoted\"" } })).toBe(`yes it's "quoted"\n`);
      expect(await sh(comm, "id -u", s, { user: "nobody" })).toBe("65534\n");
      expect(await sh(comm, "pwd", s, { workdir: "/opt" })).toBe("/opt\n");
      const r = await comm.exec({ command: "echo to-stdin-$(cat)", stdin: "piped" , onStdout: (c) => expect(c.toString()).toBe("to-stdin-piped\n") }, s);
      expect(r.exitCode).toBe(0);
      await comm.download("/opt/into/tree/a.txt", join(out, "a.txt"), s);
      await comm.downloadDir("/opt/contents", join(out, "dir"), s);
    });
    expect(result.error).toBeUndefined();
    expect(readFileSync(join(out, "a.txt"), "utf8")).toBe("A");
    expect(readFileSync(join(out, "dir/sub/b.sh"), "utf8")).toBe("#!/bin/sh\necho b\n");
    expect(existsSync(join(out, "dir/a.txt"))).toBe(true);
    expect(await leftovers(id)).toEqual([]);
  });
});

describe("the shell session", () => {
  it("runs many commands and small uploads through one exec, with exact output, exit codes and binary files", async () => {
    const id = `session-${tag}.docker`;
    const since = Math.floor(Date.now() / 1000) - 1;
    let containerId = "";
    const data = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 256));
    const { result } = await build(driver, testEnv(testNode(id, { image: base, discard: true, network: "none" })), async (comm, s) => {
      containerId = (comm as unknown as { containerId: string }).containerId;
      for (let i = 0; i < 10; i++) expect(await sh(comm, `echo line${i}`, s)).toBe(`line${i}\n`);
      let out = "";
      let err = "";
      // Large, interleaved output: the end-of-command markers must split it exactly.
      const r = await comm.exec({ command: "seq 1 30000; echo to-stderr >&2; printf no-newline", onStdout: (c) => (out += c), onStderr: (c) => (err += c) }, s);
      expect(r.exitCode).toBe(0);
      expect(out).toBe(Array.from({ length: 30000 }, (_, i) => `${i + 1}\n`).join("") + "no-newline");
      expect(err).toBe("to-stderr\n");
      expect((await comm.exec({ command: "exit 42" }, s)).exitCode).toBe(42);
      for (let i = 0; i < 5; i++) await comm.upload(`/tmp/up/f${i}`, data, { mode: 0o640 }, s);
      expect(await sh(comm, "sha256sum /tmp/up/f4 | cut -d' ' -f1; stat -c %a /tmp/up/f4", s)).toBe(
        `${(await import("node:crypto")).createHash("sha256").update(data).digest("hex")}\n640\n`,
      );
    });
    expect(result.error).toBeUndefined();
    const until = Math.floor(Date.now() / 1000) + 1;
    const execs = execFileSync("docker", ["events", "--since", String(since), "--until", String(until), "--filter", `container=${containerId}`, "--filter", "event=exec_create", "--format", "{{.ID}}"], { encoding: "utf8" });
    // One exec for the session; nothing per command or per file.
    expect(execs.trim().split("\n").filter(Boolean).length).toBe(1);
  });
});

