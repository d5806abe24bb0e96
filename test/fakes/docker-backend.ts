/**
 * A stateful in-memory `DockerBackend`: images, containers with a small file tree, a registry,
 * fault injection, an ordered event log and `live()`. It models what the driver relies on
 * (ids, labels, names, exec exit codes and output, tar copies, commit changes) and is held to
 * the real engine's behaviour by test/contracts/docker-backend.contract.ts.
 *
 * `exec` understands a small shell subset, enough for contract and driver tests: commands
 * joined by `&&` or `;`, each one of `true`, `false`, `exit N`, `echo …` (`$VAR` expanded, `>&2` for stderr),
 * `cat PATH`, `printenv NAME`, `pwd`, `id -un`, `mkdir -p PATH`, `chown …`, `sleep N` (waits
 * for the abort signal), `touch PATH`. Anything else exits 127 as `sh` would.
 */
import { randomBytes } from "node:crypto";
import { posix } from "node:path";
import { Readable } from "node:stream";
import { extract, pack } from "tar-stream";
import type {
  CommitSpec,
  ContainerInfo,
  ContainerSpec,
  DockerBackend,
  EngineVersion,
  ExecSpec,
  ImageConfig,
  ImageInfo,
  ImportSpec,
  RegistryCredentials,
} from "../../runtime/platforms/docker/backend.js";
import { EngineError } from "../../runtime/platforms/docker/engine-http.js";
import { splitReference } from "../../runtime/platforms/docker/reference.js";

type Node = { type: "dir"; mode: number } | { type: "file"; mode: number; data: Buffer } | { type: "symlink"; target: string };
type Fs = Map<string, Node>;

interface FakeImage {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  config: ImageConfig;
  fs: Fs;
}

interface FakeContainer {
  id: string;
  name: string;
  image: string;
  running: boolean;
  labels: Record<string, string>;
  spec: ContainerSpec;
  fs: Fs;
}

/** A backend method name. */
export type FakeMethod = keyof DockerBackend;

/** How an injected fault behaves. */
export interface FaultOptions {
  /** Fail only the n-th call (1-based) of this method. @default every call */
  readonly call?: number;
  /** Do the work, then fail (as a request the daemon served but whose answer was lost). */
  readonly after?: boolean;
  /** The error thrown. @default an EngineError 500 "injected fault" */
  readonly error?: Error;
}

const EMPTY_CONFIG: ImageConfig = { env: [], cmd: null, entrypoint: null, labels: {}, exposedPorts: [], user: "", workdir: "", volumes: [], onBuild: [] };

function abortError(): Error {
  return Object.assign(new Error("The operation was aborted"), { name: "AbortError" });
}

function newId(): string {
  return randomBytes(32).toString("hex");
}

function baseFs(): Fs {
  return new Map<string, Node>([
    ["/", { type: "dir", mode: 0o755 }],
    ["/bin", { type: "dir", mode: 0o755 }],
    ["/etc", { type: "dir", mode: 0o755 }],
    ["/root", { type: "dir", mode: 0o700 }],
    ["/tmp", { type: "dir", mode: 0o1777 }],
  ]);
}

async function readTar(tar: Readable, into: (name: string, node: Node) => void): Promise<void> {
  const x = extract();
  x.on("entry", (h, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: unknown) => {
      chunks.push(c as Buffer);
    });
    stream.on("end", () => {
      const name = h.name.replace(/\/+$/, "");
      if (h.type === "directory") into(name, { type: "dir", mode: (h.mode ?? 0o755) & 0o7777 });
      else if (h.type === "symlink") into(name, { type: "symlink", target: h.linkname ?? "" });
      else if (h.type === "file") into(name, { type: "file", mode: (h.mode ?? 0o644) & 0o7777, data: Buffer.concat(chunks) });
      next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    x.on("finish", resolve);
    x.on("error", reject);
    tar.on("error", reject);
    tar.pipe(x);
  });
}

function writeTar(entries: [string, Node][]): Readable {
  const p = pack();
  for (const [name, node] of entries) {
    if (node.type === "dir") p.entry({ name: `${name}/`, type: "directory", mode: node.mode });
    else if (node.type === "symlink") p.entry({ name, type: "symlink", linkname: node.target });
    else p.entry({ name, mode: node.mode, size: node.data.length }, node.data);
  }
  p.finalize();
  return p as unknown as Readable;
}

/** Parses the Dockerfile instructions `commit`/`import` accept into an image config. */
function applyChanges(config: ImageConfig, changes: readonly string[]): ImageConfig {
  const c = { ...config, env: [...config.env], labels: { ...config.labels }, exposedPorts: [...config.exposedPorts], volumes: [...config.volumes], onBuild: [...config.onBuild] };
  const execForm = (rest: string): string[] => (rest.trim().startsWith("[") ? (JSON.parse(rest) as string[]) : ["/bin/sh", "-c", rest.trim()]);
  const unquote = (s: string): string => (s.startsWith('"') ? (JSON.parse(s) as string) : s);
  for (const line of changes) {
    const m = /^\s*(\w+)\s+(.*)$/s.exec(line);
    if (!m) throw new EngineError(400, `dockerfile parse error: ${line}`);
    const [, word, rest] = [m[0], m[1]!.toUpperCase(), m[2]!];
    switch (word) {
      case "ENV": {
        const [k, ...v] = rest.split("=");
        const value = unquote(v.join("="));
        c.env = [...c.env.filter((e) => !e.startsWith(`${k}=`)), `${k}=${value}`];
        break;
      }
      case "LABEL": {
        const mm = /^("(?:[^"\\]|\\.)*"|[^=\s]+)=(.*)$/s.exec(rest.trim());
        if (!mm) throw new EngineError(400, `LABEL needs key=value: ${line}`);
        c.labels[unquote(mm[1]!)] = unquote(mm[2]!.trim());
        break;
      }
      case "CMD": c.cmd = execForm(rest); break;
      case "ENTRYPOINT": c.entrypoint = execForm(rest); break;
      case "EXPOSE": for (const p of rest.trim().split(/\s+/)) c.exposedPorts.push(p.includes("/") ? p : `${p}/tcp`); break;
      case "USER": c.user = rest.trim(); break;
      case "WORKDIR": c.workdir = rest.trim(); break;
      case "VOLUME": for (const v of rest.trim().startsWith("[") ? (JSON.parse(rest) as string[]) : rest.trim().split(/\s+/)) c.volumes.push(v); break;
      case "ONBUILD": c.onBuild.push(rest.trim()); break;
      default: throw new EngineError(400, `${word} is not a valid change command`);
    }
  }
  return c;
}

/** The stateful fake. */
export class FakeDockerBackend implements DockerBackend {
  readonly images = new Map<string, FakeImage>();
  readonly containers = new Map<string, FakeContainer>();
  /** The fake registry: `host/repo:tag` → image. */
  readonly registry = new Map<string, FakeImage>();
  /** Credentials the fake registry accepts, by server; absent server = no auth needed. */
  readonly registryUsers = new Map<string, { username: string; password: string }>();
  /** Every call, in order: `method arg`. */
  readonly events: string[] = [];
  private readonly faults = new Map<FakeMethod, FaultOptions & { seen: number }>();
  private readonly calls = new Map<FakeMethod, number>();

  /** Adds a local image with a small base file tree; returns its id. */
  addImage(ref: string, config: Partial<ImageConfig> = {}): string {
    const id = `sha256:${newId()}`;
    this.images.set(id, { id, repoTags: [ref.includes(":") ? ref : `${ref}:latest`], repoDigests: [], config: { ...EMPTY_CONFIG, ...config }, fs: baseFs() });
    return id;
  }

  /** Makes the next (or the n-th) call of `method` fail. */
  failOn(method: FakeMethod, options: FaultOptions = {}): this {
    this.faults.set(method, { ...options, seen: 0 });
    return this;
  }

  /** Removes injected faults. */
  clearFaults(): void {
    this.faults.clear();
  }

  /** What still exists that a build made: containers, and images not present at `since`. */
  live(initialImages: ReadonlySet<string> = new Set()): string[] {
    return [
      ...[...this.containers.values()].map((c) => `container ${c.name}`),
      ...[...this.images.keys()].filter((id) => !initialImages.has(id)).map((id) => `image ${id}`),
    ];
  }

  /** Records the call, honours the signal and injected faults (before or after the work). */
  private async call<T>(method: FakeMethod, arg: string, signal: AbortSignal | undefined, work: () => T | Promise<T>): Promise<T> {
    const n = (this.calls.get(method) ?? 0) + 1;
    this.calls.set(method, n);
    this.events.push(`${method} ${arg}`);
    if (signal?.aborted) throw abortError();
    const fault = this.faults.get(method);
    const fires = fault && (fault.call === undefined || fault.call === n);
    if (fires && !fault.after) throw fault.error ?? new EngineError(500, `injected fault in ${method}`);
    await Promise.resolve();
    const result = await work();
    if (fires) throw fault.error ?? new EngineError(500, `injected fault in ${method} (after the work)`);
    if (signal?.aborted) throw abortError();
    return result;
  }

  private image(ref: string): FakeImage | undefined {
    if (this.images.has(ref)) return this.images.get(ref);
    const full = splitReference(ref).tag || ref.includes("@") ? ref : `${ref}:latest`;
    return [...this.images.values()].find((i) => i.repoTags.includes(full) || i.id === `sha256:${ref}` || (ref.length >= 12 && i.id.startsWith(`sha256:${ref}`)));
  }

  private container(idOrName: string): FakeContainer {
    const c = this.containers.get(idOrName) ?? [...this.containers.values()].find((x) => x.name === idOrName || (idOrName.length >= 12 && x.id.startsWith(idOrName)));
    if (!c) throw new EngineError(404, `No such container: ${idOrName}`);
    return c;
  }

  private info(i: FakeImage): ImageInfo {
    return { id: i.id, repoTags: [...i.repoTags], repoDigests: [...i.repoDigests], config: i.config };
  }

  version(signal?: AbortSignal): Promise<EngineVersion> {
    return this.call("version", "", signal, () => ({ version: "fake", apiVersion: "1.41", os: "linux", arch: "amd64" }));
  }

  inspectImage(ref: string, signal?: AbortSignal): Promise<ImageInfo | undefined> {
    return this.call("inspectImage", ref, signal, () => {
      const i = this.image(ref);
      return i && this.info(i);
    });
  }

  listImages(label: string, signal?: AbortSignal): Promise<string[]> {
    return this.call("listImages", label, signal, () => {
      const [k, v] = label.split(/=(.*)/s);
      return [...this.images.values()].filter((i) => k! in i.config.labels && (v === undefined || i.config.labels[k!] === v)).map((i) => i.id);
    });
  }

  private checkAuth(server: string, auth: RegistryCredentials | undefined): void {
    const user = this.registryUsers.get(server);
    if (user && (auth?.username !== user.username || auth?.password !== user.password)) throw new EngineError(401, `unauthorized: authentication required for ${server}`);
  }

  pull(ref: string, options: { auth?: RegistryCredentials }, signal?: AbortSignal): Promise<void> {
    return this.call("pull", ref, signal, () => {
      const full = splitReference(ref).tag ? ref : `${ref}:latest`;
      this.checkAuth(full.split("/")[0]!, options.auth);
      const remote = this.registry.get(full);
      if (!remote) throw new EngineError(404, `manifest for ${full} not found: manifest unknown`);
      const local = this.images.get(remote.id) ?? { ...remote, repoTags: [], repoDigests: [], fs: new Map(remote.fs) };
      for (const i of this.images.values()) i.repoTags = i.repoTags.filter((t) => t !== full);
      local.repoTags = [...new Set([...local.repoTags, full])];
      this.images.set(local.id, local);
    });
  }

  createContainer(spec: ContainerSpec, signal?: AbortSignal): Promise<string> {
    return this.call("createContainer", spec.name ?? spec.image, signal, () => {
      const image = this.image(spec.image);
      if (!image) throw new EngineError(404, `No such image: ${spec.image}`);
      if (spec.name && [...this.containers.values()].some((c) => c.name === spec.name)) throw new EngineError(409, `Conflict. The container name "/${spec.name}" is already in use`);
      const id = newId();
      this.containers.set(id, { id, name: spec.name ?? `fake_${id.slice(0, 8)}`, image: image.id, running: false, labels: { ...spec.labels }, spec, fs: new Map(image.fs) });
      return id;
    });
  }

  startContainer(id: string, signal?: AbortSignal): Promise<void> {
    return this.call("startContainer", id, signal, () => {
      this.container(id).running = true;
    });
  }

  inspectContainer(id: string, signal?: AbortSignal): Promise<ContainerInfo | undefined> {
    return this.call("inspectContainer", id, signal, () => {
      try {
        const c = this.container(id);
        return { id: c.id, image: c.image, running: c.running, labels: { ...c.labels } };
      } catch {
        return undefined;
      }
    });
  }

  listContainers(label: string, signal?: AbortSignal): Promise<string[]> {
    return this.call("listContainers", label, signal, () => {
      const [k, v] = label.split(/=(.*)/s);
      return [...this.containers.values()].filter((c) => k! in c.labels && (v === undefined || c.labels[k!] === v)).map((c) => c.id);
    });
  }

  exec(id: string, spec: ExecSpec, signal?: AbortSignal): Promise<number> {
    return this.call("exec", `${id} ${spec.cmd.join(" ")}`, signal, async () => {
      const c = this.container(id);
      if (!c.running) throw new EngineError(409, `Container ${id} is not running`);
      const script = spec.cmd[0] === "/bin/sh" && spec.cmd[1] === "-c" ? spec.cmd[2]! : spec.cmd.join(" ");
      const env = new Map((spec.env ?? []).map((e) => e.split(/=(.*)/s) as [string, string]));
      const out = (s: string): void => spec.onStdout?.(Buffer.from(s));
      const err = (s: string): void => spec.onStderr?.(Buffer.from(s));
      const cwd = spec.workdir || "/";
      const abs = (p: string): string => posix.resolve(cwd, p);
      let code = 0;
      for (const part of script.split(/\s*(&&|;|\n)\s*/)) {
        if (part === "&&") {
          if (code !== 0) break;
          continue;
        }
        if (part === ";" || part === "\n" || part === "") continue;
        const words = part.trim().split(/\s+/);
        const [cmd, ...args] = words;
        switch (cmd) {
          case "true": code = 0; break;
          case "false": code = 1; break;
          case "exit": return Number(args[0] ?? 0);
          case "echo": {
            const toErr = args.at(-1) === ">&2";
            const raw = (toErr ? args.slice(0, -1) : args).join(" ");
            const expanded = raw.startsWith("'") ? raw : raw.replace(/\$\{?(\w+)\}?/g, (_, n: string) => env.get(n) ?? c.spec.env?.find((e) => e.startsWith(`${n}=`))?.split(/=(.*)/s)[1] ?? "");
            const text = expanded.replace(/^'(.*)'$/, "$1").replace(/^"(.*)"$/, "$1") + "\n";
            if (toErr) err(text);
            else out(text);
            code = 0;
            break;
          }
          case "cat": {
            const n = c.fs.get(abs(args[0] ?? ""));
            if (n?.type === "file") {
              spec.onStdout?.(n.data);
              code = 0;
            } else {
              err(`cat: ${args[0]}: No such file or directory\n`);
              code = 1;
            }
            break;
          }
          case "printenv": {
            const v = env.get(args[0] ?? "") ?? c.spec.env?.find((e) => e.startsWith(`${args[0]}=`))?.split(/=(.*)/s)[1];
            if (v !== undefined) out(`${v}\n`);
            code = v === undefined ? 1 : 0;
            break;
          }
          case "pwd": out(`${cwd}\n`); code = 0; break;
          case "id": out(`${spec.user || "root"}\n`); code = 0; break;
          case "mkdir": {
            let p = "";
            for (const seg of abs(args.at(-1)!.replace(/^'(.*)'$/, "$1")).split("/").filter(Boolean)) {
              p += `/${seg}`;
              if (!c.fs.has(p)) c.fs.set(p, { type: "dir", mode: 0o755 });
            }
            code = 0;
            break;
          }
          case "touch": c.fs.set(abs(args[0]!), { type: "file", mode: 0o644, data: Buffer.alloc(0) }); code = 0; break;
          case "chown": code = 0; break;
          case "sleep":
            await new Promise<void>((resolve, reject) => {
              if (signal?.aborted) return reject(abortError());
              signal?.addEventListener("abort", () => reject(abortError()), { once: true });
              if (!signal) resolve();
            });
            break;
          default:
            err(`sh: 1: ${cmd}: not found\n`);
            code = 127;
        }
      }
      return code;
    });
  }

  copyIn(id: string, dir: string, tar: Readable, signal?: AbortSignal): Promise<void> {
    return this.call("copyIn", `${id} ${dir}`, signal, async () => {
      const c = this.container(id);
      const base = posix.resolve(dir);
      if (c.fs.get(base)?.type !== "dir") {
        tar.resume();
        throw new EngineError(404, `Could not find the file ${dir} in container ${id}`);
      }
      await readTar(tar, (name, node) => {
        const path = posix.join(base, name);
        // Parents are made as real tar extraction makes them.
        let p = "";
        for (const seg of posix.dirname(path).split("/").filter(Boolean)) {
          p += `/${seg}`;
          if (!c.fs.has(p)) c.fs.set(p, { type: "dir", mode: 0o755 });
        }
        if (path !== base) c.fs.set(path, node);
      });
    });
  }

  copyOut(id: string, path: string, signal?: AbortSignal): Promise<Readable> {
    return this.call("copyOut", `${id} ${path}`, signal, () => {
      const c = this.container(id);
      const root = posix.resolve(path);
      if (!c.fs.has(root)) throw new EngineError(404, `Could not find the file ${path} in container ${id}`);
      const top = posix.basename(root) || "/";
      const entries = [...c.fs.entries()]
        .filter(([p]) => p === root || p.startsWith(root === "/" ? "/" : `${root}/`))
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([p, n]) => [posix.join(top, posix.relative(root, p)), n] as [string, Node]);
      return writeTar(entries);
    });
  }

  commit(id: string, spec: CommitSpec, signal?: AbortSignal): Promise<string> {
    return this.call("commit", id, signal, () => {
      const c = this.container(id);
      const from = this.images.get(c.image)!;
      const imageId = `sha256:${newId()}`;
      // As the engine: the container's labels are merged in, under those the changes set.
      const config = applyChanges({ ...from.config, labels: { ...from.config.labels, ...c.labels } }, spec.changes);
      this.images.set(imageId, { id: imageId, repoTags: [], repoDigests: [], config, fs: new Map(c.fs) });
      return imageId;
    });
  }

  exportContainer(id: string, signal?: AbortSignal): Promise<Readable> {
    return this.call("exportContainer", id, signal, () => {
      const c = this.container(id);
      return writeTar([...c.fs.entries()].filter(([p]) => p !== "/").map(([p, n]) => [p.slice(1), n] as [string, Node]));
    });
  }

  removeContainer(id: string, signal?: AbortSignal): Promise<void> {
    return this.call("removeContainer", id, signal, () => {
      try {
        this.containers.delete(this.container(id).id);
      } catch {
        /* already gone: not an error */
      }
    });
  }

  tag(image: string, repo: string, tag: string, signal?: AbortSignal): Promise<void> {
    return this.call("tag", `${image} ${repo}:${tag}`, signal, () => {
      const i = this.image(image);
      if (!i) throw new EngineError(404, `No such image: ${image}`);
      const name = `${repo}:${tag}`;
      for (const other of this.images.values()) other.repoTags = other.repoTags.filter((t) => t !== name);
      i.repoTags.push(name);
    });
  }

  login(auth: RegistryCredentials, signal?: AbortSignal): Promise<void> {
    return this.call("login", auth.server, signal, () => {
      try {
        this.checkAuth(auth.server, auth);
      } catch (err) {
        throw new Error(`Login to ${auth.server} as ${auth.username} failed: ${(err as Error).message}`);
      }
    });
  }

  push(ref: string, options: { auth?: RegistryCredentials }, signal?: AbortSignal): Promise<string | undefined> {
    return this.call("push", ref, signal, () => {
      const full = splitReference(ref).tag ? ref : `${ref}:latest`;
      const i = this.image(full);
      if (!i) throw new EngineError(404, `An image does not exist locally with the tag: ${splitReference(full).repo}`);
      this.checkAuth(full.split("/")[0]!, options.auth);
      this.registry.set(full, i);
      const digest = `sha256:${newId()}`;
      i.repoDigests = [...new Set([...i.repoDigests, `${splitReference(full).repo}@${digest}`])];
      return digest;
    });
  }

  saveImages(refs: readonly string[], signal?: AbortSignal): Promise<Readable> {
    return this.call("saveImages", refs.join(" "), signal, () => {
      const images = refs.map((r) => {
        const i = this.image(r);
        if (!i) throw new EngineError(404, `reference does not exist: ${r}`);
        return i;
      });
      const doc = images.map((i) => ({ id: i.id, repoTags: i.repoTags, config: i.config, fs: [...i.fs].map(([p, n]) => [p, n.type === "file" ? { ...n, data: n.data.toString("base64") } : n]) }));
      return writeTar([["fake-images.json", { type: "file", mode: 0o644, data: Buffer.from(JSON.stringify(doc)) }]]);
    });
  }

  loadImages(tar: Readable, signal?: AbortSignal): Promise<string[]> {
    return this.call("loadImages", "", signal, async () => {
      let doc: { id: string; repoTags: string[]; config: ImageConfig; fs: [string, Node & { data?: string }][] }[] = [];
      await readTar(tar, (name, node) => {
        if (name === "fake-images.json" && node.type === "file") doc = JSON.parse(node.data.toString("utf8"));
      });
      return doc.map((d) => {
        const fs: Fs = new Map(d.fs.map(([p, n]) => [p, n.type === "file" ? { ...n, data: Buffer.from(n.data as unknown as string, "base64") } : n] as [string, Node]));
        this.images.set(d.id, { id: d.id, repoTags: d.repoTags, repoDigests: [], config: d.config, fs });
        return d.repoTags[0] ?? d.id;
      });
    });
  }

  importImage(tar: Readable, spec: ImportSpec, signal?: AbortSignal): Promise<string> {
    return this.call("importImage", spec.reference ?? "", signal, async () => {
      const fs: Fs = new Map([["/", { type: "dir", mode: 0o755 }]]);
      await readTar(tar, (name, node) => fs.set(posix.resolve("/", name), node));
      const id = `sha256:${newId()}`;
      const tags = spec.reference ? [splitReference(spec.reference).tag ? spec.reference : `${spec.reference}:latest`] : [];
      for (const i of this.images.values()) i.repoTags = i.repoTags.filter((t) => !tags.includes(t));
      this.images.set(id, { id, repoTags: tags, repoDigests: [], config: applyChanges(EMPTY_CONFIG, spec.changes ?? []), fs });
      return id;
    });
  }

  removeImage(ref: string, options: { force?: boolean } = {}, signal?: AbortSignal): Promise<void> {
    return this.call("removeImage", ref, signal, () => {
      const i = this.image(ref);
      if (!i) return;
      const byName = i.id !== ref && i.repoTags.length > 1 && !options.force;
      if (byName) {
        // Removing one of several names only untags it, as the engine does.
        i.repoTags = i.repoTags.filter((t) => t !== (ref.includes(":") ? ref : `${ref}:latest`));
        return;
      }
      if ([...this.containers.values()].some((c) => c.image === i.id) && !options.force) throw new EngineError(409, `conflict: unable to delete ${i.id} - image is being used by a container`);
      this.images.delete(i.id);
    });
  }
}
