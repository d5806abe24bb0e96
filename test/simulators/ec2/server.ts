/**
 * A local EC2 API simulator: an HTTP server on 127.0.0.1 that speaks the EC2 Query protocol
 * (form-encoded `Action=…&Version=2016-11-15`, XML answers, EC2's XML errors) to the real AWS
 * SDK pointed at it with an endpoint override. State is kept per region (the region comes from
 * the SigV4 credential scope, or the Host header). Lifecycles run on timers; faults are armed
 * through `fault()` (or `POST /_sim/fault`). Instances "answer SSH": they report the address of
 * a real local OpenSSH server, and their key pair's public key is written to its
 * authorized_keys file while they run. It also answers STS GetCallerIdentity and AssumeRole,
 * and `GET /checkip` (the caller's address, like checkip.amazonaws.com).
 */
import { appendFileSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { create } from "xmlbuilder2";
import { Ec2Error, handlerFor } from "./actions.js";
import { RegionState, type Fault, type FaultInput, type InstanceState, type SimImage, type SimInstance, type SimTimings } from "./model.js";
import { errorXml, parseQuery, responseXml, str } from "./query.js";

/** How the simulator is set up. */
export interface Ec2SimulatorOptions {
  /** The account that owns what the caller makes. @default "123456789012" */
  readonly accountId: string;
  /** The address instances report as public and private IP (a local SSH server's). @default "127.0.0.1" */
  readonly instanceAddress: string;
  /** authorized_keys file of the local SSH server: running instances' key pairs are written there. */
  readonly authorizedKeysFile?: string;
  /** Region used when a request names none. @default "us-east-1" */
  readonly defaultRegion: string;
  /** Lifecycle durations in ms. */
  readonly timings: SimTimings;
  /** The S3 simulator, so RegisterImage can check that a bundle manifest exists. */
  readonly s3?: { hasObject(bucket: string, key: string): boolean };
  /** Spot price per instance type, in USD/hour. @default 0.01 for every type */
  readonly spotPrices?: Readonly<Record<string, number>>;
}

/** One request the simulator answered, for tests' assertions. */
export interface SimRequest {
  readonly action: string;
  readonly region: string;
  readonly accessKeyId?: string;
  readonly error?: string;
}

/** What is still alive, per region: what a build must not leave behind. */
export interface LiveResources {
  readonly instances: string[];
  readonly keyPairs: string[];
  readonly securityGroups: string[];
  readonly spotRequests: string[];
}

/** A running simulator. */
export class Ec2Simulator {
  readonly options: Ec2SimulatorOptions;
  readonly requests: SimRequest[] = [];
  /**
   * Called after an EC2 action took effect and before its answer is sent: a test can abort the
   * client at the moment a call is in flight, whatever the machine's speed.
   */
  onRequest: ((action: string, region: string) => void) | undefined;
  /** Role sessions handed out by AssumeRole: access key id → role ARN. */
  readonly assumedRoles = new Map<string, string>();
  private readonly regions = new Map<string, RegionState>();
  private readonly faults: Fault[] = [];
  private readonly hidden = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private server?: Server;

  constructor(options: Partial<Ec2SimulatorOptions> = {}) {
    this.options = {
      accountId: "123456789012",
      instanceAddress: "127.0.0.1",
      defaultRegion: "us-east-1",
      ...options,
      timings: { instanceStart: 30, instanceStop: 30, instanceTerminate: 30, imageAvailable: 40, ...options.timings },
    };
  }

  /** Lifecycle durations in ms. */
  get timings(): SimTimings {
    return this.options.timings;
  }

  /** The endpoint URL to give the SDK. */
  get endpoint(): string {
    const addr = this.server?.address() as AddressInfo | null;
    if (!addr) throw new Error("the EC2 simulator is not listening");
    return `http://127.0.0.1:${addr.port}`;
  }

  /** Starts listening on a free loopback port. */
  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return this;
  }

  /** Stops the server and every timer. */
  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
  }

  /** A region's state (made on first use, like a fresh account). */
  region(name: string): RegionState {
    if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(name)) throw new Ec2Error("InvalidParameterValue", `Invalid region: ${name}`);
    let r = this.regions.get(name);
    if (!r) this.regions.set(name, (r = new RegionState(name)));
    return r;
  }

  /** Regions that hold state. */
  regionNames(): string[] {
    return [...this.regions.keys()];
  }

  /** Adds an available public image (a base AMI such as Debian's) with one snapshot. */
  seedImage(region: string, fields: { name: string; ownerId?: string; public?: boolean; rootDeviceType?: "ebs" | "instance-store" }): SimImage {
    const r = this.region(region);
    const snapId = `snap-${randomUUID().replace(/-/g, "").slice(0, 17)}`;
    const ebs = (fields.rootDeviceType ?? "ebs") === "ebs";
    if (ebs) r.snapshots.set(snapId, { id: snapId, volumeSize: 8, encrypted: false, state: "completed", ownerId: fields.ownerId ?? "136693071363", tags: new Map(), startTime: new Date().toISOString() });
    const img: SimImage = {
      id: `ami-${randomUUID().replace(/-/g, "").slice(0, 17)}`,
      name: fields.name,
      state: "available",
      ownerId: fields.ownerId ?? "136693071363",
      public: fields.public ?? true,
      rootDeviceType: fields.rootDeviceType ?? "ebs",
      rootDeviceName: "/dev/xvda",
      architecture: "x86_64",
      virtualizationType: "hvm",
      enaSupport: true,
      blockDevices: ebs ? [{ deviceName: "/dev/xvda", ebs: { snapshotId: snapId, volumeSize: 8, volumeType: "gp3", deleteOnTermination: true, encrypted: false } }] : [],
      tags: new Map(),
      launchUsers: new Set(),
      launchGroups: new Set(),
      creationDate: new Date(Date.now() - 86_400_000).toISOString(),
      origin: { kind: "seed" },
    };
    r.images.set(img.id, img);
    return img;
  }

  /** Arms a fault. */
  fault(input: FaultInput): void {
    this.faults.push({ count: 1, ...input } as Fault);
  }

  /** Disarms every fault. */
  clearFaults(): void {
    this.faults.length = 0;
  }

  /** What is alive: non-terminated instances, key pairs, non-default security groups, open spot requests. */
  live(region?: string): LiveResources {
    const regions = region ? [this.region(region)] : [...this.regions.values()];
    return {
      instances: regions.flatMap((r) => [...r.instances.values()].filter((i) => i.state !== "terminated").map((i) => i.id)),
      keyPairs: regions.flatMap((r) => [...r.keyPairs.keys()]),
      securityGroups: regions.flatMap((r) => [...r.securityGroups.values()].filter((s) => s.name !== "default").map((s) => s.id)),
      spotRequests: regions.flatMap((r) => [...r.spotRequests.values()].filter((s) => s.state === "open" || s.state === "active").map((s) => s.id)),
    };
  }

  /** Images owned by the account, not deregistered, in a region. */
  ownImages(region: string): SimImage[] {
    return [...this.region(region).images.values()].filter((i) => i.ownerId === this.options.accountId && i.state !== "deregistered");
  }

  /** Spot price of an instance type. */
  spotPrice(instanceType: string): number {
    return this.options.spotPrices?.[instanceType] ?? 0.01;
  }

  /** Takes one use of an armed fault of this kind (matching the region when it names one). */
  consumeFault(kind: Fault["kind"], region: string, action?: string): Fault | undefined {
    const i = this.faults.findIndex(
      (f) => f.kind === kind && (!("region" in f) || !f.region || f.region === region) && (!("action" in f) || !f.action || f.action === action),
    );
    if (i < 0) return undefined;
    const f = this.faults[i]!;
    if (--f.count <= 0) this.faults.splice(i, 1);
    return f;
  }

  /** Called when a resource is made: arms eventual-consistency hiding for it. */
  afterCreate(kind: "image" | "instance", id: string): void {
    const f = this.consumeFault(kind === "image" ? "image-not-found-after-create" : "instance-not-found-after-run", "");
    if (f && "calls" in f) this.hidden.set(id, f.calls);
  }

  /** True while a new resource is still invisible; `consume` counts this lookup. */
  hiddenByConsistency(id: string, consume = true): boolean {
    const left = this.hidden.get(id);
    if (!left) return false;
    if (consume) {
      if (left <= 1) this.hidden.delete(id);
      else this.hidden.set(id, left - 1);
    }
    return true;
  }

  /** Runs `fn` after `ms` unless the simulator closes first. */
  later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** Makes a new image (and its snapshots) available after the image timer. */
  makeAvailable(region: RegionState, img: SimImage): void {
    this.later(() => {
      if (img.stuck || img.state !== "pending") return;
      img.state = "available";
      for (const d of img.blockDevices) {
        const snap = d.ebs?.snapshotId ? region.snapshots.get(d.ebs.snapshotId) : undefined;
        if (snap) snap.state = "completed";
      }
    }, this.timings.imageAvailable);
  }

  /** Boots a new instance: pending → running, and lets its key in to the SSH server. */
  boot(region: RegionState, inst: SimInstance, publicKey: string | undefined): void {
    if (this.consumeFault("instance-never-running", region.name)) {
      inst.stuck = true;
      return;
    }
    this.later(() => {
      if (inst.state !== "pending") return;
      inst.state = "running";
      if (publicKey && this.options.authorizedKeysFile) appendFileSync(this.options.authorizedKeysFile, `${publicKey.trim()} imgc-sim:${inst.id}\n`);
    }, this.timings.instanceStart);
  }

  /** Moves an instance through a transient state to a final one. */
  transition(region: RegionState, inst: SimInstance, through: InstanceState, to: InstanceState, ms: number): void {
    inst.state = through;
    if (to === "terminated" || to === "stopped") this.revokeKey(inst.id);
    this.later(() => {
      if (inst.state !== through) return;
      inst.state = to;
      if (to === "terminated" && inst.spotRequestId) {
        const req = region.spotRequests.get(inst.spotRequestId);
        if (req) {
          req.state = req.state === "cancelled" ? "cancelled" : "closed";
          req.statusCode = "instance-terminated-by-user";
        }
      }
    }, ms);
  }

  private revokeKey(instanceId: string): void {
    const file = this.options.authorizedKeysFile;
    if (!file || !existsSync(file)) return;
    const kept = readFileSync(file, "utf8").split("\n").filter((l) => l && !l.endsWith(`imgc-sim:${instanceId}`));
    writeFileSync(file, kept.length ? kept.join("\n") + "\n" : "");
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    try {
      const body = await readBody(req);
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      if (url.pathname === "/checkip") return send(res, 200, `${req.socket.remoteAddress?.replace(/^::ffff:/, "")}\n`, "text/plain");
      if (url.pathname.startsWith("/_sim/")) return this.control(url.pathname, body, res);
      const params = parseQuery(req.method === "GET" ? url.search.slice(1) : body);
      const action = str(params.Action) ?? "";
      const scope = credentialScope(req.headers.authorization);
      const regionName = scope?.region ?? /ec2\.([a-z0-9-]+)\.amazonaws/.exec(req.headers.host ?? "")?.[1] ?? this.options.defaultRegion;
      if (scope?.service === "sts" || str(params.Version) === "2011-06-15") return this.sts(action, params, scope?.accessKeyId, requestId, res);
      const log = { action, region: regionName, accessKeyId: scope?.accessKeyId };
      try {
        if (str(params.Version) !== "2016-11-15") throw new Ec2Error("InvalidParameterValue", `Unsupported API version ${str(params.Version)}`);
        const handler = handlerFor(action);
        if (!handler) throw new Ec2Error("InvalidAction", `The action ${action} is not valid for this web service.`);
        if (this.consumeFault("throttle", regionName, action)) throw new Ec2Error("RequestLimitExceeded", "Request limit exceeded.", 503);
        const failure = this.consumeFault("fail", regionName, action);
        if (failure && failure.kind === "fail") throw new Ec2Error(failure.code, failure.message ?? `injected failure of ${action}`, failure.status ?? 400);
        const region = this.region(regionName);
        const out = handler({ sim: this, region, p: params });
        this.requests.push(log);
        this.onRequest?.(action, regionName);
        send(res, 200, responseXml(action, requestId, out));
      } catch (e) {
        const err = e instanceof Ec2Error ? e : new Ec2Error("InternalError", `An internal error has occurred (${(e as Error).message})`, 500);
        this.requests.push({ ...log, error: err.code });
        send(res, err.status, errorXml(err.code, err.message, requestId));
      }
    } catch (e) {
      send(res, 500, errorXml("InternalError", (e as Error).message, requestId));
    }
  }

  private sts(action: string, params: ReturnType<typeof parseQuery>, accessKeyId: string | undefined, requestId: string, res: ServerResponse): void {
    const xmlns = "https://sts.amazonaws.com/doc/2011-06-15/";
    const ok = (result: object) =>
      send(res, 200, create({ version: "1.0" }).ele({ [`${action}Response`]: { "@xmlns": xmlns, [`${action}Result`]: result, ResponseMetadata: { RequestId: requestId } } }).end());
    this.requests.push({ action: `sts:${action}`, region: "", accessKeyId });
    if (action === "GetCallerIdentity") {
      const role = accessKeyId ? this.assumedRoles.get(accessKeyId) : undefined;
      return ok({ UserId: "AIDAEXAMPLE", Account: this.options.accountId, Arn: role ?? `arn:aws:iam::${this.options.accountId}:user/builder` });
    }
    if (action === "AssumeRole") {
      const roleArn = str(params.RoleArn) ?? "";
      const key = `ASIA${randomUUID().replace(/-/g, "").slice(0, 16).toUpperCase()}`;
      this.assumedRoles.set(key, roleArn);
      return ok({
        Credentials: { AccessKeyId: key, SecretAccessKey: randomUUID(), SessionToken: randomUUID(), Expiration: new Date(Date.now() + 3_600_000).toISOString() },
        AssumedRoleUser: { AssumedRoleId: `AROA:${str(params.RoleSessionName)}`, Arn: `${roleArn}/${str(params.RoleSessionName)}` },
      });
    }
    send(res, 400, create({ version: "1.0" }).ele({ ErrorResponse: { "@xmlns": xmlns, Error: { Type: "Sender", Code: "InvalidAction", Message: `Could not find operation ${action}` }, RequestId: requestId } }).end());
  }

  private control(path: string, body: string, res: ServerResponse): void {
    if (path === "/_sim/fault") {
      this.fault(JSON.parse(body) as FaultInput);
      return send(res, 204, "");
    }
    if (path === "/_sim/live") return send(res, 200, JSON.stringify(this.live()), "application/json");
    send(res, 404, "unknown control path");
  }
}

/** Starts a simulator on a free loopback port. */
export async function startEc2Simulator(options: Partial<Ec2SimulatorOptions> = {}): Promise<Ec2Simulator> {
  return new Ec2Simulator(options).start();
}

function credentialScope(authorization: string | undefined): { accessKeyId: string; region: string; service: string } | undefined {
  const m = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization ?? "");
  return m ? { accessKeyId: m[1]!, region: m[2]!, service: m[3]! } : undefined;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: string, type = "text/xml;charset=UTF-8"): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}
