/**
 * The docker post-processors on the real engine and a real registry (Debian's docker-registry
 * with htpasswd auth on a loopback port): tag, log in and push, delete locally, pull back;
 * save and load; import an exported filesystem.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { createReadStream } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EngineBackend } from "../../../runtime/platforms/docker/backend-engine.js";
import type { PostContext } from "../../../runtime/post/registry.js";
import { loadPostProcessor } from "../../../runtime/post/registry.js";
import type { ArtifactRecord } from "../../../runtime/types.js";
import { busyboxImage } from "../../support/docker-base.js";
import { REGISTRY_PASSWORD, REGISTRY_USER, startRegistry, type TestRegistry } from "../../support/docker-registry.js";
import { dockerImport, dockerPush, dockerSave, dockerTag } from "../../../lang/post.js";

const backend = new EngineBackend();
const signal = new AbortController().signal;
let registry: TestRegistry;
let imageId: string;
const root = mkdtempSync(join(tmpdir(), "imgc-post-"));
const secrets: string[] = [];
const logs: string[] = [];
const cleanupImages: string[] = [];

const ctx: PostContext = {
  node: "app.docker",
  platformType: "docker",
  projectRoot: root,
  runId: "test",
  buildTime: 0,
  log: { log: (_l, m) => void logs.push(m), output: () => {}, track: () => {}, untrack: () => {} },
  redact: (v) => void secrets.push(v),
  redactText: (t) => secrets.reduce((acc, s) => acc.split(s).join("<sensitive>"), t),
};

let artifact: ArtifactRecord;

beforeAll(async () => {
  registry = await startRegistry();
  const base = await busyboxImage(backend);
  // A distinct image to push: a commit of the base with a marker file.
  const cid = await backend.createContainer({ image: base, labels: { "imgc.test": "post" }, cmd: ["/bin/sh"], tty: true, network: "none" });
  try {
    await backend.startContainer(cid);
    await backend.exec(cid, { cmd: ["/bin/sh", "-c", `echo ${process.pid} > /marker`] });
    imageId = await backend.commit(cid, { changes: ['LABEL "stage"="post-test"'] });
  } finally {
    await backend.removeContainer(cid);
  }
  cleanupImages.push(imageId);
  artifact = { node: "app.docker", platform: "docker", id: imageId, files: [], data: { mode: "commit", imageId, repoTags: [], sourceImage: base } };
});
afterAll(async () => {
  for (const id of cleanupImages) await backend.removeImage(id, { force: true });
  await registry?.stop();
});

describe("docker post-processors", () => {
  it("the factories make plain specs users import from imgc/post", () => {
    expect(dockerTag({ repository: "r" }).type).toBe("docker-tag");
    expect(dockerPush().type).toBe("docker-push");
    expect(dockerSave({ output: "x.tar" }).type).toBe("docker-save");
    expect(dockerImport({ repository: "r" }).type).toBe("docker-import");
  });

  it("tags, logs in and pushes to a real registry, then pulls the image back after deleting it locally", async () => {
    const repo = `${registry.host}/imgc/app`;
    const tagged = await (await loadPostProcessor("docker-tag")).run(artifact, { repository: repo, tags: ["v1", "latest"] }, ctx, signal);
    expect((tagged.artifact!.data as { repoTags: string[] }).repoTags).toEqual([`${repo}:v1`, `${repo}:latest`]);
    const push = await loadPostProcessor("docker-push");
    // Wrong password: refused, and the error never shows it.
    const wrong = push.run(tagged.artifact!, { login: { username: REGISTRY_USER, password: "not-the-password" } }, ctx, signal);
    await expect(wrong).rejects.toThrow(/Login to 127\.0\.0\.1:\d+ as imgc failed/);
    await wrong.catch((e: Error) => expect(e.message).not.toContain("not-the-password"));
    const pushed = await push.run(tagged.artifact!, { login: { username: REGISTRY_USER, password: REGISTRY_PASSWORD } }, ctx, signal);
    expect(secrets).toContain(REGISTRY_PASSWORD);
    expect((pushed.artifact!.data as { repoDigests: string[] }).repoDigests[0]).toMatch(new RegExp(`^${repo.replace(/\./g, "\\.")}@sha256:[0-9a-f]{64}$`));
    expect(logs.join("\n")).not.toContain(REGISTRY_PASSWORD);

    await backend.removeImage(imageId, { force: true });
    expect(await backend.inspectImage(`${repo}:v1`)).toBeUndefined();
    await backend.pull(`${repo}:v1`, { auth: { server: registry.host, username: REGISTRY_USER, password: REGISTRY_PASSWORD } });
    const back = await backend.inspectImage(`${repo}:v1`);
    expect(back?.id).toBe(imageId);
    expect(back?.config.labels.stage).toBe("post-test");
    expect(execFileSync("docker", ["run", "--rm", "--network", "none", `${repo}:v1`, "cat", "/marker"], { encoding: "utf8" })).toBe(`${process.pid}\n`);
    artifact = { ...artifact, data: { ...(artifact.data as object), repoTags: [`${repo}:v1`] } };
  });

  it("saves the image to a tar that docker load restores", async () => {
    const saved = await (await loadPostProcessor("docker-save")).run(artifact, { output: "out/{{.BuildName}}.tar" }, ctx, signal);
    const tar = join(root, "out/app.docker.tar");
    expect(saved.artifact).toMatchObject({ id: tar, files: [tar] });
    const ref = (artifact.data as { repoTags: string[] }).repoTags[0]!;
    await backend.removeImage(imageId, { force: true });
    expect(await backend.inspectImage(ref)).toBeUndefined();
    await backend.loadImages(createReadStream(tar));
    expect((await backend.inspectImage(ref))?.id).toBe(imageId);
    await (await loadPostProcessor("docker-save")).destroy!(saved.artifact!, signal);
    expect(existsSync(tar)).toBe(false);
  });

  it("imports an exported filesystem as an image with changes; refuses an image artifact", async () => {
    const cid = await backend.createContainer({ image: imageId, labels: {}, cmd: ["/bin/sh"], tty: true, network: "none" });
    const tar = join(root, "fs.tar");
    try {
      const stream = await backend.exportContainer(cid);
      const { pipeline } = await import("node:stream/promises");
      const { createWriteStream } = await import("node:fs");
      await pipeline(stream as Readable, createWriteStream(tar));
    } finally {
      await backend.removeContainer(cid);
    }
    const exported: ArtifactRecord = { node: "fs.docker", platform: "docker", id: tar, files: [tar], data: { mode: "export", exportPath: tar, repoTags: [], sourceImage: imageId } };
    const imp = await loadPostProcessor("docker-import");
    const r = await imp.run(exported, { repository: "imgc-test/imported", tag: String(process.pid), changes: ['CMD ["cat","/marker"]'] }, ctx, signal);
    cleanupImages.push(r.artifact!.id);
    const info = await backend.inspectImage(`imgc-test/imported:${process.pid}`);
    expect(info?.id).toBe(r.artifact!.id);
    expect(info?.config.cmd).toEqual(["cat", "/marker"]);
    expect(execFileSync("docker", ["run", "--rm", "--network", "none", `imgc-test/imported:${process.pid}`], { encoding: "utf8" })).toBe(`${process.pid}\n`);
    await expect((await loadPostProcessor("docker-tag")).run(exported, { repository: "x" }, ctx, signal)).rejects.toThrow(/needs a docker image artifact/);
  });
});
