/**
 * The `dirtree` driver (the module `imgc-plugin-dirtree/driver`): a staging directory, seeded
 * from the upstream tarball and `files`, provisioned through a local communicator rooted in it,
 * packed into a tarball. Built only on `imgc/runtime`'s public plugin API.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { chmod, mkdir, mkdtemp, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { LocalCommunicator, PROVISION, type ArtifactRecord, type Communicator, type DriverEnv, type PlatformDriver, type Step } from "imgc/runtime";

/** The resolved options the driver receives. */
interface Options {
  readonly output?: string;
  readonly files?: Readonly<Record<string, string>>;
  readonly fileMode?: number;
}

/** What the steps share. */
interface Ctx {
  readonly env: DriverEnv;
  readonly options: Options;
  /** The staging tree, once created. */
  root?: string;
  /** The finished tarball and its digest. */
  tarball?: string;
  sha256?: string;
  comm?: Communicator;
}

/** Runs a command with the build's abort signal; rejects with its stderr on failure. */
function run(cmd: string, args: string[], signal: AbortSignal): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"], signal });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolvePromise() : reject(new Error(`${cmd} ${args.join(" ")} exited with ${code}: ${stderr.trim()}`))));
  });
}

async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return hash.digest("hex");
}

/** A local communicator whose commands run in the tree, with `$IMGC_ROOT`; relative destinations land in the tree. */
function rootedCommunicator(root: string): Communicator {
  const local = new LocalCommunicator();
  const inTree = (p: string): string => (isAbsolute(p) ? p : resolve(root, p));
  return {
    kind: "local",
    exec: (cmd, signal) => local.exec({ ...cmd, workdir: cmd.workdir ?? root, env: { ...(cmd.env ?? {}), IMGC_ROOT: root } }, signal),
    upload: (dst, src, o, s) => local.upload(inTree(dst), src, o, s),
    uploadDir: (dst, src, o, s) => local.uploadDir(inTree(dst), src, o, s),
    download: (src, dst, s) => local.download(inTree(src), dst, s),
    downloadDir: (src, dst, s) => local.downloadDir(inTree(src), dst, s),
    close: () => local.close(),
  };
}

const stage: Step<Ctx> = {
  name: "stage",
  async run(ctx) {
    ctx.root = await mkdtemp(join(tmpdir(), "imgc-dirtree-"));
    ctx.env.log.track({ kind: "staging directory", id: ctx.root });
  },
  async cleanup(ctx) {
    if (!ctx.root) return;
    await rm(ctx.root, { recursive: true, force: true });
    ctx.env.log.untrack({ kind: "staging directory", id: ctx.root });
    ctx.root = undefined;
  },
};

const seed: Step<Ctx> = {
  name: "seed",
  async run(ctx, signal) {
    const root = ctx.root!;
    // From an upstream dirtree: start from its tarball.
    for (const upstream of Object.values(ctx.env.resolved.upstream)) {
      const from = upstream.files[0];
      if (!from) throw new Error(`upstream ${upstream.node} has no tarball to start from`);
      await run("tar", ["-xzf", from, "-C", root], signal);
      ctx.env.log.log("info", `seeded from ${upstream.node} (${upstream.id})`);
    }
    for (const [path, content] of Object.entries(ctx.options.files ?? {})) {
      const target = resolve(root, path.replace(/^\/+/, ""));
      if (!target.startsWith(root + "/")) throw new Error(`files: ${path} points outside the tree`);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content);
      await chmod(target, ctx.options.fileMode ?? 0o644);
    }
    ctx.comm = rootedCommunicator(root);
    ctx.env.facts.host = "localhost";
  },
};

const pack: Step<Ctx> = {
  name: "pack",
  async run(ctx, signal) {
    const template = ctx.options.output ?? "out/{{.BuildName}}.tar.gz";
    const out = resolve(ctx.env.projectRoot, template.replaceAll("{{.BuildName}}", ctx.env.resolved.node.id));
    await mkdir(dirname(out), { recursive: true });
    const partial = `${out}.partial`;
    ctx.tarball = partial;
    // Sorted names and fixed owner/mtime: the same tree gives the same tarball.
    await run("tar", ["--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "-czf", partial, "-C", ctx.root!, "."], signal);
    ctx.sha256 = await sha256(partial);
    await rename(partial, out);
    ctx.tarball = out;
  },
  async cleanup(ctx, outcome) {
    // A finished tarball is the artifact; a half-written one goes.
    if (outcome !== "ok" && ctx.tarball) {
      await unlink(ctx.tarball).catch(() => {});
      ctx.tarball = undefined;
    }
  },
};

/** The dirtree driver. */
const driver: PlatformDriver<Options, Ctx> = {
  type: "dirtree",
  version: 1,
  createContext: (env) => ({ env, options: env.resolved.options as Options }),
  steps: () => [stage, seed, PROVISION, pack],
  communicator: (ctx) => ctx.comm,
  artifact(ctx): ArtifactRecord | undefined {
    if (!ctx.tarball || !ctx.sha256) return undefined;
    return { node: ctx.env.resolved.node.id, platform: "dirtree", id: `sha256:${ctx.sha256}`, files: [ctx.tarball], data: { path: ctx.tarball, sha256: ctx.sha256 } };
  },
  async exists(artifact) {
    const path = artifact.files[0];
    if (!path || !(await stat(path).catch(() => undefined))) return false;
    return `sha256:${await sha256(path)}` === artifact.id;
  },
  async destroy(artifact) {
    await Promise.all(artifact.files.map((f) => unlink(f).catch(() => {})));
  },
};
export default driver;
