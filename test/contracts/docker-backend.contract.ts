/**
 * The contract every `DockerBackend` keeps, run against the real engine and the fake
 * (test/platforms/docker/backend-contract.test.ts) so the fake cannot drift from dockerd.
 */
import { Readable } from "node:stream";
import { extract, pack } from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DockerBackend } from "../../runtime/platforms/docker/backend.js";
import { EngineError } from "../../runtime/platforms/docker/engine-http.js";

/** What a contract run needs. */
export interface ContractSetup {
  readonly backend: DockerBackend;
  /** A local image with a POSIX shell, `cat`, `pwd`. */
  readonly baseImage: string;
}

function tarOf(files: Record<string, string>): Readable {
  const p = pack();
  for (const [name, content] of Object.entries(files)) p.entry({ name, mode: 0o644 }, content);
  p.finalize();
  return p as unknown as Readable;
}

async function tarEntries(tar: Readable): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const x = extract();
  x.on("entry", (h, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: unknown) => {
      chunks.push(c as Buffer);
    });
    stream.on("end", () => {
      if (h.type === "file") out[h.name.replace(/^\.\//, "")] = Buffer.concat(chunks).toString("utf8");
      next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    x.on("finish", resolve);
    x.on("error", reject);
    tar.pipe(x);
  });
  return out;
}

/** Registers the contract tests under `describe(name)`. */
export function dockerBackendContract(name: string, setup: () => Promise<ContractSetup>): void {
  describe(`DockerBackend contract: ${name}`, () => {
    let b: DockerBackend;
    let base: string;
    const label = `imgc.contract=${process.pid}-${name}`;
    const made: string[] = [];
    const images: string[] = [];

    async function running(): Promise<string> {
      const id = await b.createContainer({ name: `imgc-contract-${process.pid}-${made.length}-${name}`, image: base, labels: { "imgc.contract": `${process.pid}-${name}` }, entrypoint: ["/bin/sh"], cmd: [], tty: true, network: "none" });
      made.push(id);
      await b.startContainer(id);
      return id;
    }

    async function run(id: string, line: string, opts: { env?: string[]; workdir?: string; user?: string } = {}): Promise<{ code: number; out: string; err: string }> {
      let out = "";
      let err = "";
      const code = await b.exec(id, { cmd: ["/bin/sh", "-c", line], ...opts, onStdout: (c) => (out += c), onStderr: (c) => (err += c) });
      return { code, out, err };
    }

    beforeAll(async () => {
      ({ backend: b, baseImage: base } = await setup());
    });
    afterAll(async () => {
      for (const id of made) await b.removeContainer(id);
      for (const id of images) await b.removeImage(id, { force: true });
    });

    it("reports a linux engine", async () => {
      expect((await b.version()).os).toBe("linux");
    });

    it("inspects images, and answers undefined for an unknown one", async () => {
      const info = await b.inspectImage(base);
      expect(info?.id).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(await b.inspectImage("imgc-contract/absent:none")).toBeUndefined();
    });

    it("creates a named, labelled container, lists it by label, removes it (twice is fine)", async () => {
      const id = await running();
      expect((await b.inspectContainer(id))?.running).toBe(true);
      expect((await b.inspectContainer(id))?.labels["imgc.contract"]).toBe(`${process.pid}-${name}`);
      expect(await b.listContainers(label)).toContain(id);
      await b.removeContainer(id);
      await b.removeContainer(id);
      expect(await b.inspectContainer(id)).toBeUndefined();
      expect(await b.listContainers(label)).not.toContain(id);
    });

    it("removes a container by its name", async () => {
      const cname = `imgc-contract-byname-${process.pid}-${name}`;
      const id = await b.createContainer({ name: cname, image: base, labels: {}, entrypoint: ["/bin/sh"], cmd: [], tty: true, network: "none" });
      await b.removeContainer(cname);
      expect(await b.inspectContainer(id)).toBeUndefined();
    });

    it("refuses a container from an unknown image with a 404", async () => {
      await expect(b.createContainer({ image: "imgc-contract/absent:none", labels: {}, cmd: [], tty: true })).rejects.toMatchObject({ status: 404 });
    });

    it("execs with exit codes, stdout, stderr, env and workdir", async () => {
      const id = await running();
      expect((await run(id, "exit 3")).code).toBe(3);
      expect(await run(id, "echo hello")).toMatchObject({ code: 0, out: "hello\n", err: "" });
      expect(await run(id, "echo oops >&2")).toMatchObject({ code: 0, out: "", err: "oops\n" });
      expect((await run(id, 'echo "$GREETING"', { env: ["GREETING=hi there"] })).out).toBe("hi there\n");
      expect((await run(id, "pwd", { workdir: "/tmp" })).out).toBe("/tmp\n");
      expect((await run(id, "no-such-command-here")).code).toBe(127);
    });

    it("copies a tar in and out", async () => {
      const id = await running();
      await b.copyIn(id, "/tmp", tarOf({ "a.txt": "alpha", "sub/b.txt": "beta" }));
      expect((await run(id, "cat /tmp/sub/b.txt")).out).toBe("beta");
      expect(await tarEntries(await b.copyOut(id, "/tmp/sub"))).toEqual({ "sub/b.txt": "beta" });
      await expect(b.copyIn(id, "/no/such/dir", tarOf({ "x": "x" }))).rejects.toMatchObject({ status: 404 });
      await expect(b.copyOut(id, "/no/such/file")).rejects.toBeInstanceOf(EngineError);
    });

    it("commits with changes that show in the image config, and keeps the files", async () => {
      const id = await running();
      await b.copyIn(id, "/", tarOf({ "marker": "committed" }));
      const img = await b.commit(id, {
        changes: ['ENV APP_MODE="prod"', 'LABEL "org.example.team"="infra"', 'CMD ["/bin/sh","-c","echo run"]', 'ENTRYPOINT []', "EXPOSE 8080", "USER nobody", "WORKDIR /tmp", 'VOLUME ["/data"]', "ONBUILD RUN echo child"],
      });
      images.push(img);
      const info = await b.inspectImage(img);
      expect(info?.config.env).toContain("APP_MODE=prod");
      expect(info?.config.labels["org.example.team"]).toBe("infra");
      expect(info?.config.cmd).toEqual(["/bin/sh", "-c", "echo run"]);
      expect(info?.config.exposedPorts).toEqual(["8080/tcp"]);
      expect(info?.config.user).toBe("nobody");
      expect(info?.config.workdir).toBe("/tmp");
      expect(info?.config.volumes).toEqual(["/data"]);
      expect(info?.config.onBuild).toEqual(["RUN echo child"]);
      expect(await b.listImages("org.example.team=infra")).toContain(img);
      // The container's labels go into the image; a change can only blank one.
      expect(info?.config.labels["imgc.contract"]).toBe(`${process.pid}-${name}`);
      expect(await b.listImages("org.example.team=nobody")).not.toContain(img);
      const child = await b.createContainer({ image: img, labels: {}, entrypoint: ["/bin/sh"], cmd: [], tty: true, network: "none" });
      made.push(child);
      await b.startContainer(child);
      expect((await run(child, "cat /marker")).out).toBe("committed");
    });

    it("exports the filesystem, imports it back as a named image with changes", async () => {
      const id = await running();
      await b.copyIn(id, "/", tarOf({ "exported": "yes" }));
      const files = await tarEntries(await b.exportContainer(id));
      expect(files["exported"]).toBe("yes");
      const p = pack();
      for (const [n, c] of Object.entries(files)) p.entry({ name: n, mode: 0o755 }, c);
      p.finalize();
      const img = await b.importImage(p as unknown as Readable, { reference: `imgc-contract/imported:${process.pid}`, changes: ['LABEL "from"="import"'] });
      images.push(img);
      const info = await b.inspectImage(`imgc-contract/imported:${process.pid}`);
      expect(info?.id).toBe(img);
      expect(info?.config.labels.from).toBe("import");
    });

    it("tags, saves, removes and loads an image back under the same id", async () => {
      const id = await running();
      const img = await b.commit(id, { changes: [] });
      images.push(img);
      await b.tag(img, "imgc-contract/saved", String(process.pid));
      const ref = `imgc-contract/saved:${process.pid}`;
      expect((await b.inspectImage(ref))?.id).toBe(img);
      const chunks: Buffer[] = [];
      for await (const c of await b.saveImages([ref])) chunks.push(c as Buffer);
      await b.removeContainer(id);
      await b.removeImage(ref, { force: true });
      expect(await b.inspectImage(ref)).toBeUndefined();
      await b.removeImage(ref);
      const loaded = await b.loadImages(Readable.from([Buffer.concat(chunks)]));
      expect(loaded.length).toBe(1);
      expect((await b.inspectImage(ref))?.id).toBe(img);
    });
  });
}
