/**
 * The EC2 actions the simulator answers, each a function from decoded parameters to a response
 * body, acting on one region's state. Errors are thrown as `Ec2Error` with EC2's codes.
 */
import { createHash } from "node:crypto";
import ssh2 from "ssh2";
import { list, str, structs, type Param, type Params, type XmlValue } from "./query.js";
import { INSTANCE_CODES, newId, type RegionState, type SimBlockDevice, type SimImage, type SimInstance, type SimSnapshot, type Tags } from "./model.js";
import type { Ec2Simulator } from "./server.js";

/** An EC2 error answer. */
export class Ec2Error extends Error {
  constructor(readonly code: string, message: string, readonly status = 400) {
    super(message);
  }
}

/** What an action handler gets. */
export interface ActionContext {
  readonly sim: Ec2Simulator;
  readonly region: RegionState;
  readonly p: Params;
}

type Handler = (c: ActionContext) => Record<string, XmlValue>;

const now = () => new Date().toISOString();

function tagSet(tags: Tags): XmlValue[] {
  return [...tags].map(([key, value]) => ({ key, value }));
}

function tagsFor(p: Params, resourceType: string): Tags {
  const tags: Tags = new Map();
  for (const spec of structs(p.TagSpecification)) {
    if (str(spec.ResourceType) !== resourceType) continue;
    for (const t of structs(spec.Tag)) tags.set(str(t.Key) ?? "", str(t.Value) ?? "");
  }
  return tags;
}

function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
}

/** Applies `Filter.N` to items given a field reader; unknown filter names reject the request like EC2. */
function filtered<T>(p: Params, items: Iterable<T>, field: (item: T, name: string) => string[] | undefined): T[] {
  const filters = structs(p.Filter).map((f) => ({ name: str(f.Name) ?? "", values: list(f.Value).map(glob) }));
  return [...items].filter((item) =>
    filters.every((f) => {
      const got = f.name.startsWith("tag:") ? tagValue(item, f.name.slice(4)) : field(item, f.name);
      if (got === undefined) throw new Ec2Error("InvalidParameterValue", `The filter '${f.name}' is invalid`);
      return got.some((g) => f.values.some((re) => re.test(g)));
    }),
  );
}

function tagValue(item: unknown, key: string): string[] {
  const tags = (item as { tags?: Tags }).tags;
  const v = tags?.get(key);
  return v === undefined ? [] : [v];
}

function bool(p: Param | undefined): boolean | undefined {
  const s = str(p);
  return s === undefined ? undefined : s === "true";
}

function num(p: Param | undefined): number | undefined {
  const s = str(p);
  return s === undefined ? undefined : Number(s);
}

function imageXml(img: SimImage): XmlValue {
  return {
    imageId: img.id,
    imageLocation: img.imageLocation ?? `${img.ownerId}/${img.name}`,
    imageState: img.state,
    imageOwnerId: img.ownerId,
    creationDate: img.creationDate,
    isPublic: img.public,
    architecture: img.architecture,
    imageType: "machine",
    name: img.name,
    description: img.description,
    rootDeviceType: img.rootDeviceType,
    rootDeviceName: img.rootDeviceName,
    blockDeviceMapping: img.blockDevices.map(deviceXml),
    virtualizationType: img.virtualizationType,
    hypervisor: "xen",
    enaSupport: img.enaSupport,
    tagSet: tagSet(img.tags),
    stateReason: img.stateReason ? { code: "Client.ImageFailed", message: img.stateReason } : undefined,
  };
}

function deviceXml(d: SimBlockDevice): XmlValue {
  return {
    deviceName: d.deviceName,
    virtualName: d.virtualName,
    noDevice: d.noDevice ? "" : undefined,
    ebs: d.ebs
      ? {
          snapshotId: d.ebs.snapshotId,
          volumeSize: d.ebs.volumeSize,
          deleteOnTermination: d.ebs.deleteOnTermination,
          volumeType: d.ebs.volumeType,
          encrypted: d.ebs.encrypted,
          kmsKeyId: d.ebs.kmsKeyId,
          iops: d.ebs.iops,
          throughput: d.ebs.throughput,
        }
      : undefined,
  };
}

function instanceXml(i: SimInstance, region: RegionState): XmlValue {
  return {
    instanceId: i.id,
    imageId: i.imageId,
    instanceState: { code: INSTANCE_CODES[i.state], name: i.state },
    privateDnsName: `ip-${i.privateIp.replace(/\./g, "-")}.${region.name}.compute.internal`,
    dnsName: i.publicIp ? `ec2-${i.publicIp.replace(/\./g, "-")}.${region.name}.compute.amazonaws.com` : "",
    keyName: i.keyName,
    amiLaunchIndex: 0,
    instanceType: i.instanceType,
    launchTime: i.launchTime,
    placement: { availabilityZone: region.subnets.get(i.subnetId)?.availabilityZone ?? `${region.name}a`, tenancy: "default" },
    subnetId: i.subnetId,
    vpcId: i.vpcId,
    privateIpAddress: i.privateIp,
    ipAddress: i.publicIp,
    groupSet: i.securityGroupIds.map((id) => ({ groupId: id, groupName: region.securityGroups.get(id)?.name })),
    architecture: "x86_64",
    rootDeviceType: i.rootDeviceType,
    rootDeviceName: i.rootDeviceName,
    blockDeviceMapping: i.blockDevices.filter((d) => d.ebs).map((d) => ({
      deviceName: d.deviceName,
      ebs: { volumeId: newId("vol"), status: "attached", attachTime: i.launchTime, deleteOnTermination: d.ebs!.deleteOnTermination },
    })),
    instanceLifecycle: i.lifecycle,
    spotInstanceRequestId: i.spotRequestId,
    iamInstanceProfile: i.iamInstanceProfile ? { arn: i.iamInstanceProfile, id: "AIPA" + i.id.slice(2, 14).toUpperCase() } : undefined,
    tagSet: tagSet(i.tags),
  };
}

function snapshotXml(s: SimSnapshot): XmlValue {
  return {
    snapshotId: s.id,
    volumeId: "vol-ffffffff",
    status: s.state,
    startTime: s.startTime,
    progress: s.state === "completed" ? "100%" : "50%",
    ownerId: s.ownerId,
    volumeSize: s.volumeSize,
    description: s.description,
    encrypted: s.encrypted,
    kmsKeyId: s.kmsKeyId,
    tagSet: tagSet(s.tags),
  };
}

function image(c: ActionContext, id: string | undefined): SimImage {
  const img = id ? c.region.images.get(id) : undefined;
  if (!img || img.state === "deregistered" || c.sim.hiddenByConsistency(id!)) {
    throw new Ec2Error("InvalidAMIID.NotFound", `The image id '[${id}]' does not exist`);
  }
  return img;
}

function instance(c: ActionContext, id: string | undefined): SimInstance {
  const inst = id ? c.region.instances.get(id) : undefined;
  if (!inst || c.sim.hiddenByConsistency(id!)) throw new Ec2Error("InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`);
  return inst;
}

function blockDevicesFrom(p: Param | undefined, base: SimBlockDevice[] = []): SimBlockDevice[] {
  const out: SimBlockDevice[] = base.map((d) => ({ ...d, ebs: d.ebs ? { ...d.ebs } : undefined }));
  for (const m of structs(p)) {
    const deviceName = str(m.DeviceName);
    if (!deviceName) throw new Ec2Error("InvalidBlockDeviceMapping", "The device name is missing from a block device mapping");
    const existing = out.find((d) => d.deviceName === deviceName);
    const ebs = m.Ebs as Params | undefined;
    const device: SimBlockDevice = {
      deviceName,
      virtualName: str(m.VirtualName),
      noDevice: m.NoDevice !== undefined,
      ebs: ebs
        ? {
            snapshotId: str(ebs.SnapshotId) ?? existing?.ebs?.snapshotId,
            volumeSize: num(ebs.VolumeSize) ?? existing?.ebs?.volumeSize ?? 8,
            volumeType: str(ebs.VolumeType) ?? existing?.ebs?.volumeType ?? "gp2",
            deleteOnTermination: bool(ebs.DeleteOnTermination) ?? existing?.ebs?.deleteOnTermination ?? true,
            encrypted: bool(ebs.Encrypted) ?? existing?.ebs?.encrypted ?? false,
            kmsKeyId: str(ebs.KmsKeyId) ?? existing?.ebs?.kmsKeyId,
            iops: num(ebs.Iops),
            throughput: num(ebs.Throughput),
          }
        : undefined,
    };
    if (existing) out.splice(out.indexOf(existing), 1, device);
    else out.push(device);
  }
  return out.filter((d) => !d.noDevice);
}

/** Makes a snapshot per EBS device of a new image. */
function snapshotDevices(c: ActionContext, devices: SimBlockDevice[], encrypt?: { kmsKeyId: string }): SimBlockDevice[] {
  return devices.map((d) => {
    if (!d.ebs) return d;
    const encrypted = encrypt ? true : d.ebs.encrypted;
    const kmsKeyId = encrypt ? encrypt.kmsKeyId : d.ebs.kmsKeyId;
    const snap: SimSnapshot = { id: newId("snap"), volumeSize: d.ebs.volumeSize, encrypted, kmsKeyId, state: "pending", ownerId: c.sim.options.accountId, tags: new Map(), startTime: now() };
    c.region.snapshots.set(snap.id, snap);
    return { ...d, ebs: { ...d.ebs, snapshotId: snap.id, encrypted, kmsKeyId } };
  });
}

function newImage(c: ActionContext, fields: Partial<SimImage> & Pick<SimImage, "name" | "blockDevices" | "rootDeviceType" | "rootDeviceName">): SimImage {
  const name = fields.name;
  if (!/^[\w ()[\]./\-'@]{3,128}$/.test(name)) throw new Ec2Error("InvalidAMIName.Malformed", `AMI names must be 3-128 characters of letters, numbers, spaces and ()[]./-'@_ (got '${name}')`);
  for (const img of c.region.images.values()) {
    if (img.name === name && img.ownerId === c.sim.options.accountId && img.state !== "deregistered") {
      throw new Ec2Error("InvalidAMIName.Duplicate", `AMI name ${name} is already in use by AMI ${img.id}`);
    }
  }
  const img: SimImage = {
    id: newId("ami"),
    state: "pending",
    ownerId: c.sim.options.accountId,
    public: false,
    architecture: "x86_64",
    virtualizationType: "hvm",
    enaSupport: true,
    tags: new Map(),
    launchUsers: new Set(),
    launchGroups: new Set(),
    creationDate: now(),
    ...fields,
  };
  c.region.images.set(img.id, img);
  c.sim.afterCreate("image", img.id);
  c.sim.makeAvailable(c.region, img);
  return img;
}

const handlers: Record<string, Handler> = {
  DescribeRegions: (c) => ({ regionInfo: c.sim.regionNames().map((r) => ({ regionName: r, regionEndpoint: `ec2.${r}.amazonaws.com`, optInStatus: "opt-in-not-required" })) }),

  DescribeImages(c) {
    const ids = list(c.p.ImageId);
    const owners = list(c.p.Owner).map((o) => (o === "self" ? c.sim.options.accountId : o));
    for (const id of ids) image(c, id);
    const visible = [...c.region.images.values()].filter(
      (img) => img.state !== "deregistered" && !c.sim.hiddenByConsistency(img.id, false) && (img.public || img.ownerId === c.sim.options.accountId || img.launchUsers.has(c.sim.options.accountId)),
    );
    const selected = filtered(c.p, visible, (img, name) => {
      switch (name) {
        case "name": return [img.name];
        case "image-id": return [img.id];
        case "owner-id": return [img.ownerId];
        case "state": return [img.state];
        case "architecture": return [img.architecture];
        case "root-device-type": return [img.rootDeviceType];
        case "virtualization-type": return [img.virtualizationType];
        case "is-public": return [String(img.public)];
        default: return undefined;
      }
    }).filter((img) => (ids.length === 0 || ids.includes(img.id)) && (owners.length === 0 || owners.includes(img.ownerId)));
    return { imagesSet: selected.map((img) => imageXml(img)) };
  },

  CreateImage(c) {
    const inst = instance(c, str(c.p.InstanceId));
    if (inst.state !== "stopped" && inst.state !== "running") throw new Ec2Error("IncorrectInstanceState", `The instance '${inst.id}' is not in a state from which it can be imaged`);
    if (inst.rootDeviceType !== "ebs") throw new Ec2Error("InvalidParameterValue", `The instance '${inst.id}' is instance-store backed; use RegisterImage with a bundle`);
    const devices = snapshotDevices(c, blockDevicesFrom(c.p.BlockDeviceMapping, inst.blockDevices));
    const img = newImage(c, {
      name: str(c.p.Name) ?? "",
      description: str(c.p.Description),
      rootDeviceType: "ebs",
      rootDeviceName: inst.rootDeviceName,
      blockDevices: devices,
      tags: tagsFor(c.p, "image"),
      origin: { kind: "instance", from: inst.id },
    });
    return { imageId: img.id };
  },

  RegisterImage(c) {
    const location = str(c.p.ImageLocation);
    if (location) {
      const slash = location.indexOf("/");
      const bucket = location.slice(0, slash);
      const key = location.slice(slash + 1);
      if (!c.sim.options.s3 || !c.sim.options.s3.hasObject(bucket, key)) {
        throw new Ec2Error("InvalidManifest", `The manifest ${location} does not exist or cannot be read`);
      }
    }
    const devices = snapshotDevices(c, blockDevicesFrom(c.p.BlockDeviceMapping));
    const img = newImage(c, {
      name: str(c.p.Name) ?? "",
      description: str(c.p.Description),
      rootDeviceType: location ? "instance-store" : "ebs",
      rootDeviceName: str(c.p.RootDeviceName) ?? "/dev/sda1",
      architecture: str(c.p.Architecture) ?? "x86_64",
      virtualizationType: str(c.p.VirtualizationType) ?? "hvm",
      enaSupport: bool(c.p.EnaSupport) ?? false,
      imageLocation: location,
      blockDevices: devices,
      tags: tagsFor(c.p, "image"),
      origin: { kind: "manifest", from: location },
    });
    return { imageId: img.id };
  },

  CopyImage(c) {
    const sourceRegion = c.sim.region(str(c.p.SourceRegion) ?? "");
    const sourceId = str(c.p.SourceImageId);
    const src = sourceId ? sourceRegion.images.get(sourceId) : undefined;
    if (!src || src.state === "deregistered" || c.sim.hiddenByConsistency(sourceId!)) throw new Ec2Error("InvalidAMIID.NotFound", `The image id '[${sourceId}]' does not exist in ${sourceRegion.name}`);
    if (src.state !== "available") throw new Ec2Error("IncorrectState", `Image ${src.id} is not available (it is ${src.state})`);
    const encrypted = bool(c.p.Encrypted) ?? false;
    const kmsKeyId = str(c.p.KmsKeyId);
    if (kmsKeyId && !encrypted) throw new Ec2Error("InvalidParameterCombination", "KmsKeyId requires Encrypted to be true");
    const encrypt = encrypted ? { kmsKeyId: kmsKeyId ?? `arn:aws:kms:${c.region.name}:${c.sim.options.accountId}:alias/aws/ebs` } : undefined;
    const devices = snapshotDevices(c, src.blockDevices, encrypt);
    const img = newImage(c, {
      name: str(c.p.Name) ?? src.name,
      description: str(c.p.Description) ?? src.description,
      rootDeviceType: src.rootDeviceType,
      rootDeviceName: src.rootDeviceName,
      architecture: src.architecture,
      imageLocation: src.imageLocation,
      blockDevices: devices,
      tags: bool(c.p.CopyImageTags) ? new Map(src.tags) : tagsFor(c.p, "image"),
      origin: { kind: "copy", from: src.id, region: sourceRegion.name },
      stateReason: undefined,
    });
    if (c.sim.consumeFault("copy-image-fails", c.region.name)) {
      img.stuck = true;
      c.sim.later(() => {
        img.state = "failed";
        img.stateReason = "Copy failed: an internal error occurred while copying the snapshot";
      }, c.sim.timings.imageAvailable);
    }
    return { imageId: img.id };
  },

  DeregisterImage(c) {
    const img = image(c, str(c.p.ImageId));
    img.state = "deregistered";
    if (bool(c.p.DeleteAssociatedSnapshots)) for (const d of img.blockDevices) if (d.ebs?.snapshotId) c.region.snapshots.delete(d.ebs.snapshotId);
    return { return: true };
  },

  ModifyImageAttribute(c) {
    const img = image(c, str(c.p.ImageId));
    if (img.ownerId !== c.sim.options.accountId) throw new Ec2Error("AuthFailure", `Not authorized for image:${img.id}`);
    const lp = c.p.LaunchPermission as Params | undefined;
    const add = structs(lp?.Add);
    const remove = structs(lp?.Remove);
    if (str(c.p.Attribute) === "launchPermission") {
      const target = str(c.p.OperationType) === "remove" ? remove : add;
      for (const u of list(c.p.UserId)) target.push({ UserId: u });
      for (const g of list(c.p.UserGroup)) target.push({ Group: g });
    }
    for (const a of add) {
      const u = str(a.UserId);
      const g = str(a.Group);
      if (u && !/^\d{12}$/.test(u)) throw new Ec2Error("InvalidAMIAttributeItemValue", `Invalid attribute item value "${u}" for userId item type`);
      if (g && g !== "all") throw new Ec2Error("InvalidAMIAttributeItemValue", `Invalid attribute item value "${g}" for group item type`);
      if (u) img.launchUsers.add(u);
      if (g) img.launchGroups.add(g);
    }
    for (const r of remove) {
      if (str(r.UserId)) img.launchUsers.delete(str(r.UserId)!);
      if (str(r.Group)) img.launchGroups.delete(str(r.Group)!);
    }
    img.public = img.launchGroups.has("all");
    const desc = (c.p.Description as Params | undefined)?.Value;
    if (str(desc) !== undefined) img.description = str(desc);
    return { return: true };
  },

  DescribeImageAttribute(c) {
    const img = image(c, str(c.p.ImageId));
    return {
      imageId: img.id,
      launchPermission: [...[...img.launchUsers].map((userId) => ({ userId })), ...[...img.launchGroups].map((group) => ({ group }))],
    };
  },

  DescribeSnapshots(c) {
    const ids = list(c.p.SnapshotId);
    for (const id of ids) if (!c.region.snapshots.has(id)) throw new Ec2Error("InvalidSnapshot.NotFound", `The snapshot '${id}' does not exist.`);
    const owners = list(c.p.Owner).map((o) => (o === "self" ? c.sim.options.accountId : o));
    const selected = filtered(c.p, c.region.snapshots.values(), (s, name) => (name === "snapshot-id" ? [s.id] : name === "status" ? [s.state] : undefined))
      .filter((s) => (ids.length === 0 || ids.includes(s.id)) && (owners.length === 0 || owners.includes(s.ownerId)));
    return { snapshotSet: selected.map(snapshotXml) };
  },

  DeleteSnapshot(c) {
    const id = str(c.p.SnapshotId) ?? "";
    if (!c.region.snapshots.has(id)) throw new Ec2Error("InvalidSnapshot.NotFound", `The snapshot '${id}' does not exist.`);
    for (const img of c.region.images.values()) {
      if (img.state !== "deregistered" && img.blockDevices.some((d) => d.ebs?.snapshotId === id)) {
        throw new Ec2Error("InvalidSnapshot.InUse", `The snapshot ${id} is currently in use by ${img.id}`);
      }
    }
    c.region.snapshots.delete(id);
    return { return: true };
  },

  CreateTags(c) {
    const tags = structs(c.p.Tag).map((t) => [str(t.Key) ?? "", str(t.Value) ?? ""] as const);
    for (const id of list(c.p.ResourceId)) {
      const target =
        id.startsWith("ami-") ? image(c, id)
        : id.startsWith("i-") ? instance(c, id)
        : id.startsWith("snap-") ? c.region.snapshots.get(id)
        : id.startsWith("sg-") ? c.region.securityGroups.get(id)
        : id.startsWith("key-") ? [...c.region.keyPairs.values()].find((k) => k.id === id)
        : undefined;
      if (!target) throw new Ec2Error(id.startsWith("snap-") ? "InvalidSnapshot.NotFound" : "InvalidID", `The ID '${id}' is not valid`);
      for (const [k, v] of tags) target.tags.set(k, v);
    }
    return { return: true };
  },

  CreateKeyPair(c) {
    const name = str(c.p.KeyName) ?? "";
    if (c.region.keyPairs.has(name)) throw new Ec2Error("InvalidKeyPair.Duplicate", `The keypair '${name}' already exists.`);
    const keyType = str(c.p.KeyType) ?? "rsa";
    const pair = keyType === "ed25519" ? ssh2.utils.generateKeyPairSync("ed25519") : ssh2.utils.generateKeyPairSync("rsa", { bits: 2048 });
    const kp = { id: newId("key"), name, fingerprint: fingerprint(pair.public), publicKey: pair.public, keyType, tags: tagsFor(c.p, "key-pair") };
    c.region.keyPairs.set(name, kp);
    return { keyName: name, keyFingerprint: kp.fingerprint, keyMaterial: pair.private, keyPairId: kp.id };
  },

  ImportKeyPair(c) {
    const name = str(c.p.KeyName) ?? "";
    if (c.region.keyPairs.has(name)) throw new Ec2Error("InvalidKeyPair.Duplicate", `The keypair '${name}' already exists.`);
    const publicKey = Buffer.from(str(c.p.PublicKeyMaterial) ?? "", "base64").toString("utf8").trim();
    const parsed = ssh2.utils.parseKey(publicKey);
    if (parsed instanceof Error) throw new Ec2Error("InvalidKey.Format", "Key is not in valid OpenSSH public key format");
    const kp = { id: newId("key"), name, fingerprint: fingerprint(publicKey), publicKey, keyType: publicKey.startsWith("ssh-ed25519") ? "ed25519" : "rsa", tags: tagsFor(c.p, "key-pair") };
    c.region.keyPairs.set(name, kp);
    return { keyName: name, keyFingerprint: kp.fingerprint, keyPairId: kp.id };
  },

  DeleteKeyPair(c) {
    const name = str(c.p.KeyName);
    const id = str(c.p.KeyPairId);
    for (const kp of c.region.keyPairs.values()) if (kp.name === name || kp.id === id) c.region.keyPairs.delete(kp.name);
    return { return: true, keyPairId: id };
  },

  DescribeKeyPairs(c) {
    const names = list(c.p.KeyName);
    const ids = list(c.p.KeyPairId);
    for (const n of names) if (!c.region.keyPairs.has(n)) throw new Ec2Error("InvalidKeyPair.NotFound", `The key pair '${n}' does not exist`);
    const selected = [...c.region.keyPairs.values()].filter((k) => (names.length === 0 || names.includes(k.name)) && (ids.length === 0 || ids.includes(k.id)));
    return { keySet: selected.map((k) => ({ keyPairId: k.id, keyName: k.name, keyFingerprint: k.fingerprint, keyType: k.keyType, tagSet: tagSet(k.tags) })) };
  },

  CreateSecurityGroup(c) {
    const name = str(c.p.GroupName) ?? "";
    const vpcId = str(c.p.VpcId) ?? c.region.defaultVpcId;
    for (const sg of c.region.securityGroups.values()) if (sg.name === name && sg.vpcId === vpcId) throw new Ec2Error("InvalidGroup.Duplicate", `The security group '${name}' already exists for VPC '${vpcId}'`);
    const sg = { id: newId("sg"), name, description: str(c.p.GroupDescription) ?? "", vpcId, ingress: [], tags: tagsFor(c.p, "security-group") };
    c.region.securityGroups.set(sg.id, sg);
    return { groupId: sg.id, return: true };
  },

  AuthorizeSecurityGroupIngress(c) {
    const sg = c.region.securityGroups.get(str(c.p.GroupId) ?? "");
    if (!sg) throw new Ec2Error("InvalidGroup.NotFound", `The security group '${str(c.p.GroupId)}' does not exist`);
    for (const perm of structs(c.p.IpPermissions)) {
      sg.ingress.push({
        ipProtocol: str(perm.IpProtocol) ?? "tcp",
        fromPort: num(perm.FromPort),
        toPort: num(perm.ToPort),
        cidrs: structs(perm.IpRanges).map((r) => str(r.CidrIp) ?? ""),
        groupIds: structs(perm.Groups).map((g) => str(g.GroupId) ?? ""),
      });
    }
    return { return: true };
  },

  DeleteSecurityGroup(c) {
    const id = str(c.p.GroupId) ?? "";
    if (!c.region.securityGroups.has(id)) throw new Ec2Error("InvalidGroup.NotFound", `The security group '${id}' does not exist`);
    for (const inst of c.region.instances.values()) {
      if (inst.state !== "terminated" && inst.securityGroupIds.includes(id)) {
        throw new Ec2Error("DependencyViolation", `resource ${id} has a dependent object`);
      }
    }
    c.region.securityGroups.delete(id);
    return { return: true };
  },

  DescribeSecurityGroups(c) {
    const ids = list(c.p.GroupId);
    for (const id of ids) if (!c.region.securityGroups.has(id)) throw new Ec2Error("InvalidGroup.NotFound", `The security group '${id}' does not exist`);
    const selected = filtered(c.p, c.region.securityGroups.values(), (sg, name) => (name === "group-name" ? [sg.name] : name === "vpc-id" ? [sg.vpcId] : name === "group-id" ? [sg.id] : undefined))
      .filter((sg) => ids.length === 0 || ids.includes(sg.id));
    return {
      securityGroupInfo: selected.map((sg) => ({
        ownerId: c.sim.options.accountId,
        groupId: sg.id,
        groupName: sg.name,
        groupDescription: sg.description,
        vpcId: sg.vpcId,
        ipPermissions: sg.ingress.map((r) => ({ ipProtocol: r.ipProtocol, fromPort: r.fromPort, toPort: r.toPort, groups: r.groupIds.map((groupId) => ({ groupId })), ipRanges: r.cidrs.map((cidrIp) => ({ cidrIp })) })),
        ipPermissionsEgress: [{ ipProtocol: "-1", ipRanges: [{ cidrIp: "0.0.0.0/0" }] }],
        tagSet: tagSet(sg.tags),
      })),
    };
  },

  DescribeSubnets(c) {
    const ids = list(c.p.SubnetId);
    for (const id of ids) if (!c.region.subnets.has(id)) throw new Ec2Error("InvalidSubnetID.NotFound", `The subnet ID '${id}' does not exist`);
    const selected = filtered(c.p, c.region.subnets.values(), (s, name) => (name === "vpc-id" ? [s.vpcId] : name === "subnet-id" ? [s.id] : name === "default-for-az" ? [String(s.defaultForAz)] : undefined))
      .filter((s) => ids.length === 0 || ids.includes(s.id));
    return { subnetSet: selected.map((s) => ({ subnetId: s.id, state: "available", vpcId: s.vpcId, cidrBlock: s.cidr, availabilityZone: s.availabilityZone, defaultForAz: s.defaultForAz, mapPublicIpOnLaunch: s.defaultForAz, availableIpAddressCount: 4000 })) };
  },

  RunInstances(c) {
    const img = image(c, str(c.p.ImageId));
    if (img.state !== "available") throw new Ec2Error("InvalidAMIID.Unavailable", `The image ${img.id} is not available (it is ${img.state})`);
    const keyName = str(c.p.KeyName);
    const kp = keyName ? c.region.keyPairs.get(keyName) : undefined;
    if (keyName && !kp) throw new Ec2Error("InvalidKeyPair.NotFound", `The key pair '${keyName}' does not exist`);
    const nic = structs(c.p.NetworkInterface)[0];
    const subnetId = str(nic?.SubnetId) ?? str(c.p.SubnetId) ?? [...c.region.subnets.values()].find((s) => s.defaultForAz)!.id;
    const subnet = c.region.subnets.get(subnetId);
    if (!subnet) throw new Ec2Error("InvalidSubnetID.NotFound", `The subnet ID '${subnetId}' does not exist`);
    const groups = [...list(c.p.SecurityGroupId), ...list(nic?.SecurityGroupId)];
    for (const g of groups) {
      const sg = c.region.securityGroups.get(g);
      if (!sg) throw new Ec2Error("InvalidGroup.NotFound", `The security group '${g}' does not exist`);
      if (sg.vpcId !== subnet.vpcId) throw new Ec2Error("InvalidParameter", `Security group ${g} and subnet ${subnetId} belong to different networks.`);
    }
    if (groups.length === 0) groups.push([...c.region.securityGroups.values()].find((s) => s.name === "default" && s.vpcId === subnet.vpcId)!.id);
    const iam = c.p.IamInstanceProfile as Params | undefined;
    const iamProfile = str(iam?.Arn) ?? (str(iam?.Name) ? `arn:aws:iam::${c.sim.options.accountId}:instance-profile/${str(iam?.Name)}` : undefined);
    const market = c.p.InstanceMarketOptions as Params | undefined;
    const spot = str(market?.MarketType) === "spot";
    const instanceType = str(c.p.InstanceType) ?? "m1.small";
    if (spot) {
      const maxPrice = str((market?.SpotOptions as Params | undefined)?.MaxPrice);
      const price = c.sim.spotPrice(instanceType);
      if (c.sim.consumeFault("no-spot-capacity", c.region.name)) throw new Ec2Error("InsufficientInstanceCapacity", `There is no Spot capacity available that matches your request.`, 500);
      if (maxPrice !== undefined && Number(maxPrice) < price) throw new Ec2Error("SpotMaxPriceTooLow", `Your Spot request price of ${maxPrice} is lower than the minimum required Spot request fulfillment price of ${price}.`);
    }
    const userData = str(c.p.UserData);
    if (userData && Buffer.from(userData, "base64").length > 16384) throw new Ec2Error("InvalidParameterValue", "User data is limited to 16384 bytes");
    const associate = bool(nic?.AssociatePublicIpAddress);
    const inst: SimInstance = {
      id: newId("i"),
      imageId: img.id,
      instanceType,
      state: "pending",
      keyName,
      securityGroupIds: groups,
      subnetId,
      vpcId: subnet.vpcId,
      privateIp: c.sim.options.instanceAddress,
      publicIp: (associate ?? subnet.defaultForAz) ? c.sim.options.instanceAddress : undefined,
      iamInstanceProfile: iamProfile,
      userData: userData ? Buffer.from(userData, "base64").toString("utf8") : undefined,
      blockDevices: blockDevicesFrom(c.p.BlockDeviceMapping, img.blockDevices),
      rootDeviceType: img.rootDeviceType,
      rootDeviceName: img.rootDeviceName,
      launchTime: now(),
      tags: tagsFor(c.p, "instance"),
    };
    if (spot) {
      const req = { id: `sir-${newId("x").slice(2, 10)}`, state: "active" as const, statusCode: "fulfilled", maxPrice: str((market?.SpotOptions as Params | undefined)?.MaxPrice), instanceId: inst.id, instanceType, createTime: now() };
      c.region.spotRequests.set(req.id, req);
      inst.lifecycle = "spot";
      inst.spotRequestId = req.id;
    }
    c.region.instances.set(inst.id, inst);
    c.sim.afterCreate("instance", inst.id);
    c.sim.boot(c.region, inst, kp?.publicKey);
    return {
      reservationId: newId("r"),
      ownerId: c.sim.options.accountId,
      groupSet: [],
      instancesSet: [instanceXml(inst, c.region)],
    };
  },

  DescribeInstances(c) {
    const ids = list(c.p.InstanceId);
    for (const id of ids) instance(c, id);
    const selected = filtered(c.p, c.region.instances.values(), (i, name) => {
      switch (name) {
        case "instance-state-name": return [i.state];
        case "instance-id": return [i.id];
        case "image-id": return [i.imageId];
        case "key-name": return i.keyName ? [i.keyName] : [];
        case "instance.group-id": return i.securityGroupIds;
        default: return undefined;
      }
    }).filter((i) => (ids.length === 0 || ids.includes(i.id)) && !c.sim.hiddenByConsistency(i.id, false));
    return { reservationSet: selected.map((i) => ({ reservationId: "r-" + i.id.slice(2), ownerId: c.sim.options.accountId, groupSet: [], instancesSet: [instanceXml(i, c.region)] })) };
  },

  StopInstances(c) {
    const out: XmlValue[] = [];
    for (const id of list(c.p.InstanceId)) {
      const inst = instance(c, id);
      if (inst.lifecycle === "spot") throw new Ec2Error("UnsupportedOperation", `You can't stop the Spot Instance '${id}' because it is associated with a one-time Spot Instance request.`);
      if (inst.rootDeviceType !== "ebs") throw new Ec2Error("UnsupportedOperation", `The instance '${id}' does not have an 'ebs' root device type and cannot be stopped.`);
      if (inst.state === "pending" || inst.state === "shutting-down" || inst.state === "terminated") throw new Ec2Error("IncorrectInstanceState", `The instance '${id}' is not in a state from which it can be stopped.`);
      const previous = inst.state;
      if (inst.state === "running") c.sim.transition(c.region, inst, "stopping", "stopped", c.sim.timings.instanceStop);
      out.push({ instanceId: id, currentState: { code: INSTANCE_CODES[inst.state], name: inst.state }, previousState: { code: INSTANCE_CODES[previous], name: previous } });
    }
    return { instancesSet: out };
  },

  TerminateInstances(c) {
    const out: XmlValue[] = [];
    for (const id of list(c.p.InstanceId)) {
      const inst = instance(c, id);
      const previous = inst.state;
      if (inst.state !== "terminated" && inst.state !== "shutting-down") c.sim.transition(c.region, inst, "shutting-down", "terminated", c.sim.timings.instanceTerminate);
      out.push({ instanceId: id, currentState: { code: INSTANCE_CODES[inst.state], name: inst.state }, previousState: { code: INSTANCE_CODES[previous], name: previous } });
    }
    return { instancesSet: out };
  },

  DescribeSpotInstanceRequests(c) {
    const ids = list(c.p.SpotInstanceRequestId);
    const selected = [...c.region.spotRequests.values()].filter((r) => ids.length === 0 || ids.includes(r.id));
    return {
      spotInstanceRequestSet: selected.map((r) => ({
        spotInstanceRequestId: r.id,
        spotPrice: r.maxPrice,
        type: "one-time",
        state: r.state,
        status: { code: r.statusCode, message: r.statusCode },
        instanceId: r.instanceId,
        createTime: r.createTime,
        launchSpecification: { instanceType: r.instanceType },
      })),
    };
  },

  CancelSpotInstanceRequests(c) {
    const out: XmlValue[] = [];
    for (const id of list(c.p.SpotInstanceRequestId)) {
      const r = c.region.spotRequests.get(id);
      if (!r) throw new Ec2Error("InvalidSpotInstanceRequestID.NotFound", `The spot instance request ID '${id}' does not exist`);
      r.state = "cancelled";
      r.statusCode = "request-canceled-and-instance-running";
      out.push({ spotInstanceRequestId: id, state: "cancelled" });
    }
    return { spotInstanceRequestSet: out };
  },
};

/** The handler of an action, if the simulator implements it. */
export function handlerFor(action: string): Handler | undefined {
  return Object.hasOwn(handlers, action) ? handlers[action] : undefined;
}

/** The MD5 fingerprint EC2 shows for imported keys. */
function fingerprint(publicKey: string): string {
  const blob = Buffer.from(publicKey.split(/\s+/)[1] ?? "", "base64");
  return createHash("md5").update(blob).digest("hex").replace(/(..)(?!$)/g, "$1:");
}
