/**
 * The real docker backend: dockerd's Engine API over its socket (see engine-http.ts for why
 * not dockerode, and docs/docker.md for why not the docker CLI: one process per call costs
 * ~15-20 ms each, an exec is 53 ms over the API against 70 ms through the CLI here).
 */
import type { Socket } from "node:net";
import type { Readable } from "node:stream";
import type {
  CommitSpec,
  ContainerInfo,
  ContainerSpec,
  DockerBackend,
  EngineVersion,
  ExecSpec,
  ImageInfo,
  ImportSpec,
  RegistryCredentials,
  ShellChannel,
} from "./backend.js";
import { demux, EngineClient, EngineError, readAll } from "./engine-http.js";
import { splitReference } from "./reference.js";

interface RawImage {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Config?: {
    Env?: string[] | null;
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, unknown> | null;
    User?: string;
    WorkingDir?: string;
    Volumes?: Record<string, unknown> | null;
    OnBuild?: string[] | null;
  } | null;
}

/** The `X-Registry-Auth` header value: URL-safe base64 of the JSON credentials, `{}` when anonymous. */
function registryAuth(auth: RegistryCredentials | undefined): string {
  const body = auth ? { username: auth.username, password: auth.password, serveraddress: auth.server } : {};
  // URL-safe alphabet WITH padding: older daemons decode with Go's padded base64.URLEncoding
  // and silently drop a header they cannot decode (Node's "base64url" omits the padding).
  return Buffer.from(JSON.stringify(body)).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
}

/** Encodes a path segment, keeping the `/` and `:` of image names as the docker CLI sends them. */
const enc = (s: string): string => encodeURIComponent(s).replace(/%2F/gi, "/").replace(/%3A/gi, ":");

/** Turns a daemon 404 into `undefined`. */
async function orMissing<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof EngineError && err.status === 404) return undefined;
    throw err;
  }
}

function toStream(input: Readable | Buffer | string): Readable | Buffer {
  return typeof input === "string" ? Buffer.from(input) : input;
}

/** A `DockerBackend` on dockerd's Engine API. */
export class EngineBackend implements DockerBackend {
  constructor(readonly client: EngineClient = new EngineClient()) {}

  async version(signal?: AbortSignal): Promise<EngineVersion> {
    const v = await this.client.json<{ Version: string; ApiVersion: string; Os: string; Arch: string }>("GET", "/version", { signal });
    return { version: v.Version, apiVersion: v.ApiVersion, os: v.Os, arch: v.Arch };
  }

  async inspectImage(ref: string, signal?: AbortSignal): Promise<ImageInfo | undefined> {
    const raw = await orMissing(this.client.json<RawImage>("GET", `/images/${enc(ref)}/json`, { signal }));
    if (!raw) return undefined;
    const c = raw.Config ?? {};
    return {
      id: raw.Id,
      repoTags: raw.RepoTags ?? [],
      repoDigests: raw.RepoDigests ?? [],
      config: {
        env: c.Env ?? [],
        cmd: c.Cmd ?? null,
        entrypoint: c.Entrypoint ?? null,
        labels: c.Labels ?? {},
        exposedPorts: Object.keys(c.ExposedPorts ?? {}),
        user: c.User ?? "",
        workdir: c.WorkingDir ?? "",
        volumes: Object.keys(c.Volumes ?? {}),
        onBuild: c.OnBuild ?? [],
      },
    };
  }

  async listImages(label: string, signal?: AbortSignal): Promise<string[]> {
    const list = await this.client.json<{ Id: string }[]>("GET", "/images/json", { query: { filters: JSON.stringify({ label: [label] }) }, signal });
    return list.map((i) => i.Id);
  }

  async pull(ref: string, options: { auth?: RegistryCredentials; platform?: string }, signal?: AbortSignal): Promise<void> {
    const { repo, tag, digest } = splitReference(ref);
    await this.client.progress("POST", "/images/create", {
      query: { fromImage: repo, tag: digest ?? tag ?? "latest", platform: options.platform },
      headers: { "x-registry-auth": registryAuth(options.auth) },
      signal,
    });
  }

  async createContainer(spec: ContainerSpec, signal?: AbortSignal): Promise<string> {
    const x = spec.extra ?? {};
    const body = {
      Image: spec.image,
      Cmd: spec.cmd,
      ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
      Tty: spec.tty,
      OpenStdin: spec.tty,
      AttachStdin: false,
      Env: spec.env ?? [],
      User: spec.user ?? "",
      WorkingDir: spec.workdir ?? "",
      Labels: spec.labels,
      Hostname: x.hostname,
      HostConfig: {
        Binds: spec.binds ?? [],
        Privileged: spec.privileged ?? false,
        CapAdd: spec.capAdd ?? [],
        CapDrop: spec.capDrop ?? [],
        NetworkMode: spec.network ?? "",
        ShmSize: x.shmSize,
        Memory: x.memory,
        NanoCpus: x.nanoCpus,
        Tmpfs: x.tmpfs,
        ExtraHosts: x.extraHosts,
        Devices: x.devices?.map((d) => {
          const [host, container = host, perms = "rwm"] = d.split(":");
          return { PathOnHost: host, PathInContainer: container, CgroupPermissions: perms };
        }),
        SecurityOpt: x.securityOpt,
        Ulimits: x.ulimits?.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })),
        Init: x.init,
        Dns: x.dns,
        Sysctls: x.sysctls,
      },
    };
    const res = await this.client.json<{ Id: string }>("POST", "/containers/create", { query: { name: spec.name, platform: spec.platform }, body, signal });
    return res.Id;
  }

  async startContainer(id: string, signal?: AbortSignal): Promise<void> {
    await readAll(await this.client.request("POST", `/containers/${enc(id)}/start`, { signal }));
  }

  async inspectContainer(id: string, signal?: AbortSignal): Promise<ContainerInfo | undefined> {
    const raw = await orMissing(
      this.client.json<{ Id: string; Image: string; State: { Running: boolean }; Config: { Labels?: Record<string, string> | null } }>("GET", `/containers/${enc(id)}/json`, { signal }),
    );
    return raw && { id: raw.Id, image: raw.Image, running: raw.State.Running, labels: raw.Config.Labels ?? {} };
  }

  async listContainers(label: string, signal?: AbortSignal): Promise<string[]> {
    const list = await this.client.json<{ Id: string }[]>("GET", "/containers/json", { query: { all: 1, filters: JSON.stringify({ label: [label] }) }, signal });
    return list.map((c) => c.Id);
  }

  async exec(id: string, spec: ExecSpec, signal?: AbortSignal): Promise<number> {
    const hasStdin = spec.stdin !== undefined;
    const created = await this.client.json<{ Id: string }>("POST", `/containers/${enc(id)}/exec`, {
      body: {
        AttachStdin: hasStdin,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
        Cmd: spec.cmd,
        Env: spec.env ?? [],
        User: spec.user ?? "",
        WorkingDir: spec.workdir ?? "",
      },
      signal,
    });
    const split = demux(spec.onStdout ?? (() => {}), spec.onStderr ?? (() => {}));
    if (hasStdin) {
      // stdin needs a hijacked, two-way connection; half-closing it closes the process's stdin.
      const socket = await this.client.hijack(`/exec/${enc(created.Id)}/start`, { Detach: false, Tty: false }, signal);
      const done = new Promise<void>((resolve, reject) => {
        socket.on("data", split);
        socket.on("end", resolve);
        socket.on("close", () => resolve());
        socket.on("error", reject);
      });
      const input = toStream(spec.stdin!);
      if (Buffer.isBuffer(input)) socket.end(input);
      else input.pipe(socket);
      await done;
      socket.destroy();
    } else {
      // Without stdin the plain response body carries the output: no upgrade needed.
      const res = await this.client.request("POST", `/exec/${enc(created.Id)}/start`, { body: { Detach: false, Tty: false }, signal });
      for await (const chunk of res) split(chunk as Buffer);
    }
    const info = await this.client.json<{ ExitCode: number | null; Running: boolean }>("GET", `/exec/${enc(created.Id)}/json`, { signal });
    return info.ExitCode ?? -1;
  }

  async openShell(id: string, options: { user?: string }, signal?: AbortSignal): Promise<ShellChannel> {
    const created = await this.client.json<{ Id: string }>("POST", `/containers/${enc(id)}/exec`, {
      body: { AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: false, Cmd: ["/bin/sh"], User: options.user ?? "" },
      signal,
    });
    // The upgraded connection is a net.Socket (ref/unref below).
    const socket = (await this.client.hijack(`/exec/${enc(created.Id)}/start`, { Detach: false, Tty: false }, signal)) as Socket;
    let listener: (stream: "stdout" | "stderr", chunk: Buffer) => void = () => {};
    const split = demux((c) => listener("stdout", c), (c) => listener("stderr", c));
    socket.on("data", split);
    const closed = new Promise<void>((resolve, reject) => {
      socket.on("close", () => resolve());
      socket.on("error", reject);
    });
    closed.catch(() => {});
    // Idle between commands: the session must not keep the process alive on its own.
    socket.unref();
    return {
      write: (data) => void socket.write(data),
      onData: (l) => void (listener = l),
      closed,
      destroy: () => void socket.destroy(),
      setBusy: (busy) => void (busy ? socket.ref() : socket.unref()),
    };
  }

  async copyIn(id: string, dir: string, tar: Readable, signal?: AbortSignal): Promise<void> {
    await readAll(await this.client.request("PUT", `/containers/${enc(id)}/archive`, { query: { path: dir }, body: tar, signal }));
  }

  async copyOut(id: string, path: string, signal?: AbortSignal): Promise<Readable> {
    return this.client.request("GET", `/containers/${enc(id)}/archive`, { query: { path }, signal });
  }

  async commit(id: string, spec: CommitSpec, signal?: AbortSignal): Promise<string> {
    const res = await this.client.json<{ Id: string }>("POST", "/commit", {
      query: { container: id, changes: spec.changes, comment: spec.message, author: spec.author, pause: true },
      body: {},
      signal,
    });
    return res.Id;
  }

  async exportContainer(id: string, signal?: AbortSignal): Promise<Readable> {
    return this.client.request("GET", `/containers/${enc(id)}/export`, { signal });
  }

  async removeContainer(id: string, signal?: AbortSignal): Promise<void> {
    try {
      await readAll(await this.client.request("DELETE", `/containers/${enc(id)}`, { query: { force: true, v: true }, signal }));
    } catch (err) {
      // Gone already, or another removal of it is under way: either way it will not remain.
      if (err instanceof EngineError && (err.status === 404 || (err.status === 409 && /already in progress/.test(err.message)))) return;
      throw err;
    }
  }

  async tag(image: string, repo: string, tag: string, signal?: AbortSignal): Promise<void> {
    await readAll(await this.client.request("POST", `/images/${enc(image)}/tag`, { query: { repo, tag }, signal }));
  }

  async login(auth: RegistryCredentials, signal?: AbortSignal): Promise<void> {
    try {
      await this.client.json("POST", "/auth", { body: { username: auth.username, password: auth.password, serveraddress: auth.server }, signal });
    } catch (err) {
      // The daemon's message names the registry and the reason; it never contains the password.
      if (err instanceof EngineError) throw new Error(`Login to ${auth.server} as ${auth.username} failed: ${err.message}`);
      throw err;
    }
  }

  async push(ref: string, options: { auth?: RegistryCredentials }, signal?: AbortSignal): Promise<string | undefined> {
    const { repo, tag } = splitReference(ref);
    const messages = await this.client.progress("POST", `/images/${enc(repo)}/push`, {
      query: { tag: tag ?? "latest" },
      headers: { "x-registry-auth": registryAuth(options.auth) },
      signal,
    });
    const aux = messages.map((m) => m.aux as { Digest?: string } | undefined).find((a) => a?.Digest);
    return aux?.Digest;
  }

  async saveImages(refs: readonly string[], signal?: AbortSignal): Promise<Readable> {
    return this.client.request("GET", "/images/get", { query: { names: refs }, signal });
  }

  async loadImages(tar: Readable, signal?: AbortSignal): Promise<string[]> {
    const messages = await this.client.progress("POST", "/images/load", { query: { quiet: true }, body: tar, signal });
    return messages
      .map((m) => /^Loaded image(?: ID)?: (\S+)/.exec(String(m.stream ?? ""))?.[1])
      .filter((x): x is string => x !== undefined);
  }

  async importImage(tar: Readable, spec: ImportSpec, signal?: AbortSignal): Promise<string> {
    const ref = spec.reference ? splitReference(spec.reference) : undefined;
    const messages = await this.client.progress("POST", "/images/create", {
      query: { fromSrc: "-", repo: ref?.repo, tag: ref ? (ref.tag ?? "latest") : undefined, changes: spec.changes, message: spec.message, platform: spec.platform },
      body: tar,
      signal,
    });
    const id = messages.map((m) => String(m.status ?? "")).find((s) => s.startsWith("sha256:"));
    if (!id) throw new Error("docker import finished without reporting the new image id");
    return id;
  }

  async removeImage(ref: string, options: { force?: boolean } = {}, signal?: AbortSignal): Promise<void> {
    try {
      await readAll(await this.client.request("DELETE", `/images/${enc(ref)}`, { query: { force: options.force ?? false }, signal }));
    } catch (err) {
      if (err instanceof EngineError && err.status === 404) return;
      throw err;
    }
  }

  /** Lets the process exit (idle keep-alive connections). */
  close(): void {
    this.client.close();
  }
}

let shared: EngineBackend | undefined;

/** The process's engine backend: one connection pool to the daemon, shared by drivers and post-processors. */
export function engineBackend(): EngineBackend {
  return (shared ??= new EngineBackend());
}
