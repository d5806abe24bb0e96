import { createHash } from "node:crypto";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { beforeEach, describe, expect, it } from "vitest";
import { EventBus } from "../../runtime/events.js";
import { EXIT } from "../../runtime/exit-codes.js";
import { Redactor } from "../../runtime/redact.js";
import { attachJson } from "../../runtime/render/json.js";
import { attachPlain } from "../../runtime/render/plain.js";
import { execStep, fakeGraph, fakeNode, postStep } from "../fakes/fake-platform.js";
import { fakeBackend, ofType, run, tempRoot } from "./helpers.js";

const backend = fakeBackend();
beforeEach(() => backend.reset());

const SECRET = "hunter2-Very-Secret";
const secretRef = { $ref: { kind: "secret", name: "token" } };

function sink(): { stream: NodeJS.WritableStream; text: () => string } {
  let text = "";
  return { stream: { write: (s: string) => ((text += s), true) } as unknown as NodeJS.WritableStream, text: () => text };
}

function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name));
}

describe("redaction", () => {
  it("a secret never appears in stdout, JSON events, logs, state or manifest", async () => {
    const root = tempRoot();
    const redactor = new Redactor();
    const bus = new EventBus(redactor);
    const json = sink();
    const plain = sink();
    attachJson(bus, json.stream);
    attachPlain(bus, plain.stream);
    const node = fakeNode("a.fake", {
      config: { label: { $ref: { kind: "template", parts: ["token=", { kind: "secret", name: "token" }] } } },
      provision: [execStep("echo $TOKEN", { TOKEN: secretRef }), { type: "fake-exec", options: { command: { $ref: { kind: "template", parts: ["echo ", { kind: "secret", name: "token" }] } } }, site: { file: "f", line: 1, column: 1 } }],
      post: [postStep("manifest", { output: "manifest.json", customData: { token: secretRef } })],
    });
    const r = await run(fakeGraph(root, [node]), { bus, redactor, secrets: { env: { IMGC_SECRET_token: SECRET } } });
    expect(r.exitCode).toBe(EXIT.OK);
    // The build really used the secret…
    expect(backend.commands.get("a.fake")).toEqual(["echo $TOKEN", `echo ${SECRET}`]);
    expect(backend.images()[0]!.label).toBe(`token=${SECRET}`);
    // …and no output shows it.
    for (const text of [json.text(), plain.text()]) {
      expect(text).not.toContain(SECRET);
      expect(text).toContain("<sensitive>");
    }
    const files = [...allFiles(join(root, ".imgc")), join(root, "manifest.json")];
    expect(files.some((f) => f.endsWith("a.fake.log"))).toBe(true);
    for (const f of files) expect(readFileSync(f, "utf8")).not.toContain(SECRET);
    expect(readFileSync(join(root, ".imgc", "state.json"), "utf8")).toContain(`"label": "<sensitive>"`);
    expect(readFileSync(join(root, "manifest.json"), "utf8")).toContain("<sensitive>");
  });

  it("a missing secret fails the node with a sentence naming the variable to set", async () => {
    const r = await run(fakeGraph(tempRoot(), [fakeNode("a.fake", { config: { label: secretRef } })]), { secrets: { env: {} } });
    expect(r.exitCode).toBe(EXIT.BUILD_FAILED);
    expect(ofType(r.events, "node.end")[0]!.error).toBe('a.fake: secret "token" used in platform options.label has no value; set IMGC_SECRET_token or pass --var token=…');
  });

  it("in-memory values from the compiler win, and sensitive variables are redacted too", async () => {
    const redactor = new Redactor();
    const r = await run(fakeGraph(tempRoot(), [fakeNode("a.fake", { config: { label: { $ref: { kind: "var", name: "pw" } } }, provision: [execStep("echo pw=$P", { P: { $ref: { kind: "var", name: "pw" } } })] })]), {
      redactor,
      secrets: { values: { pw: "s3cr3t-pass" }, env: {} },
    });
    expect(r.exitCode).toBe(EXIT.OK);
    expect(redactor.redact("x s3cr3t-pass y")).toBe("x <sensitive> y");
    expect(JSON.stringify(r.events)).not.toContain("s3cr3t-pass");
  });
});

describe("resolve", () => {
  it("one timestamp for every node of an apply, a uuid per node, functions", async () => {
    const ts = { $ref: { kind: "build", field: "timestamp" } };
    const uuid = { $ref: { kind: "build", field: "uuid" } };
    const nodes = ["a.fake", "b.fake", "c.fake"].map((id) =>
      fakeNode(id, { config: { label: { $ref: { kind: "template", parts: [{ kind: "build", field: "timestamp" }, "|", { kind: "build", field: "uuid" }, "|", { kind: "fn", name: "upper", args: [{ kind: "build", field: "buildName" }] }] } } } }),
    );
    void ts;
    void uuid;
    const r = await run(fakeGraph(tempRoot(), nodes), { parallelism: 3 });
    expect(r.exitCode).toBe(EXIT.OK);
    const labels = backend.images().map((i) => i.label!.split("|"));
    expect(new Set(labels.map((l) => l[0])).size).toBe(1);
    expect(labels[0]![0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(new Set(labels.map((l) => l[1])).size).toBe(3);
    expect(labels.map((l) => l[2]).sort()).toEqual(["A.FAKE", "B.FAKE", "C.FAKE"]);
  });

  it("build.host is known to provisioners once the machine exists, not to platform options", async () => {
    const host = { $ref: { kind: "build", field: "host" } };
    const ok = await run(fakeGraph(tempRoot(), [fakeNode("a.fake", { provision: [execStep("ssh", { HOST: host })] })]));
    expect(ok.exitCode).toBe(EXIT.OK);
    expect(ofType(ok.events, "output").map((e) => e.line)).toContain("ran: ssh with HOST=10.0.0.1");
    const early = await run(fakeGraph(tempRoot(), [fakeNode("b.fake", { config: { label: host } })]));
    expect(ofType(early.events, "node.end")[0]!.error).toMatch(/build\.host used in platform options\.label is not known yet/);
  });
});

describe("post-processors", () => {
  const files = { "disk.raw": "raw disk bytes ".repeat(1000), "meta.txt": "meta" };

  it("checksum writes Packer-style files for every algorithm", async () => {
    const root = tempRoot();
    const r = await run(fakeGraph(root, [fakeNode("a.fake", { config: { files }, post: [postStep("checksum", { types: ["md5", "sha1", "sha256", "sha512"], output: "sums/{{.BuildName}}.{{.ChecksumType}}" })] })]));
    expect(r.exitCode).toBe(EXIT.OK);
    for (const algo of ["md5", "sha1", "sha256", "sha512"]) {
      const text = readFileSync(join(root, "sums", `a.fake.${algo}`), "utf8");
      const want = Object.entries(files).map(([name, content]) => `${createHash(algo).update(content).digest("hex")}\t${name}`).join("\n") + "\n";
      expect(text).toBe(want);
    }
  });

  it("compress tar.gz / zip / gz, chained in order, keepInputArtifact", async () => {
    const root = tempRoot();
    const r = await run(fakeGraph(root, [
      fakeNode("t.fake", { config: { files }, post: [postStep("compress", { output: "out/{{.BuildName}}.tar.gz", level: 9 }), postStep("checksum", { types: ["sha256"], output: "out/{{.BuildName}}.sha256" })] }),
      fakeNode("z.fake", { config: { files }, post: [postStep("compress", { output: "out/z.zip", level: 1 })] }),
      fakeNode("g.fake", { config: { files: { "only.raw": "x".repeat(5000) } }, post: [postStep("compress", { output: "out/g.raw.gz", keepInputArtifact: false })] }),
    ]));
    expect(r.exitCode).toBe(EXIT.OK);
    // tar.gz: gunzip, then the tar holds both files.
    const tar = gunzipSync(readFileSync(join(root, "out", "t.fake.tar.gz"))).toString("latin1");
    expect(tar).toContain("disk.raw");
    expect(tar).toContain("meta.txt");
    expect(tar).toContain("raw disk bytes raw disk bytes");
    // The checksum ran on the archive (the chain's current artifact).
    const sum = createHash("sha256").update(readFileSync(join(root, "out", "t.fake.tar.gz"))).digest("hex");
    expect(readFileSync(join(root, "out", "t.fake.sha256"), "utf8")).toBe(`${sum}\tt.fake.tar.gz\n`);
    // zip: the local file headers name both entries.
    const zip = readFileSync(join(root, "out", "z.zip")).toString("latin1");
    expect(zip.startsWith("PK")).toBe(true);
    expect(zip).toContain("disk.raw");
    // gz of one file; its input was deleted (keepInputArtifact: false), the kept ones stay.
    expect(gunzipSync(readFileSync(join(root, "out", "g.raw.gz"))).toString()).toBe("x".repeat(5000));
    expect(existsSync(join(root, "fake-out", "g.fake", "only.raw"))).toBe(false);
    expect(existsSync(join(root, "fake-out", "t.fake", "disk.raw"))).toBe(true);
    // A second apply is all up to date (the consumed input does not force a rebuild).
    const again = await run(fakeGraph(root, [fakeNode("g.fake", { config: { files: { "only.raw": "x".repeat(5000) } }, post: [postStep("compress", { output: "out/g.raw.gz", keepInputArtifact: false })] })]));
    expect(again.statuses.get("g.fake")).toBe("up-to-date");
  });

  it("manifest appends across runs as Packer does", async () => {
    const root = tempRoot();
    const post = [postStep("manifest", { output: "manifest.json", stripPath: true, customData: { team: "infra" } })];
    const first = await run(fakeGraph(root, [fakeNode("a.fake", { config: { files }, post })]));
    const second = await run(fakeGraph(root, [fakeNode("a.fake", { config: { files }, post })]), { force: true });
    const m = JSON.parse(readFileSync(join(root, "manifest.json"), "utf8"));
    expect(m.last_run_uuid).toBe(second.runId);
    expect(m.builds).toHaveLength(2);
    expect(m.builds.map((b: { packer_run_uuid: string }) => b.packer_run_uuid)).toEqual([first.runId, second.runId]);
    const b = m.builds[1];
    expect(Object.keys(b).sort()).toEqual(["artifact_id", "build_time", "builder_type", "custom_data", "files", "name", "packer_run_uuid"]);
    expect(b.name).toBe("a.fake");
    expect(b.builder_type).toBe("fake");
    expect(typeof b.build_time).toBe("number");
    expect(b.files).toEqual([{ name: "disk.raw", size: 15000 }, { name: "meta.txt", size: 4 }]);
    expect(b.custom_data).toEqual({ team: "infra" });
    expect(b.artifact_id).toMatch(/^image-/);
  });

  it("an up-to-date node re-runs only the post-processors whose options changed", async () => {
    const root = tempRoot();
    const node = (level: number) => fakeNode("a.fake", { config: { files }, post: [postStep("manifest", { output: "m.json" }), postStep("compress", { output: "a.tar.gz", level })] });
    await run(fakeGraph(root, [node(1)]));
    const r = await run(fakeGraph(root, [node(9)]));
    expect(r.statuses.get("a.fake")).toBe("up-to-date");
    expect(ofType(r.events, "post").map((e) => `${e.post}:${e.status}`)).toEqual(["manifest:up-to-date", "compress:done"]);
    expect(JSON.parse(readFileSync(join(root, "m.json"), "utf8")).builds).toHaveLength(1);
    expect(ofType(r.events, "node.start")).toHaveLength(0);
  });
});
