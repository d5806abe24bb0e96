/**
 * The real backend: AWS SDK v3 clients (EC2, STS, S3) per region, with an endpoint override
 * from the options or the standard `AWS_ENDPOINT_URL*` variables, credentials from
 * `credentials.ts`, and every call retried (throttling, transient errors, eventual consistency)
 * by `retry.ts`. The SDK's own retries are turned off so one policy, with its backoff, applies.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CancelSpotInstanceRequestsCommand,
  CopyImageCommand,
  CreateImageCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteKeyPairCommand,
  DeleteSecurityGroupCommand,
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSubnetsCommand,
  EC2Client,
  ImportKeyPairCommand,
  ModifyImageAttributeCommand,
  RegisterImageCommand,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type BlockDeviceMapping,
  type Image,
  type Instance,
  type TagSpecification,
  type _InstanceType,
} from "@aws-sdk/client-ec2";
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { AwsApiError, type AmazonBackends, type AmiInfo, type BlockDevice, type BundleStore, type CallerIdentity, type Ec2Backend, type ImageQuery, type InstanceInfo, type LaunchSpec, type Tags } from "./backend.js";
import { credentialsFor, endpointFor, type AwsAccessOptions } from "./credentials.js";
import { errorCode, withRetries, type RetryPolicy } from "./retry.js";

/** Settings of the SDK backends of one build. */
export interface SdkBackendOptions extends AwsAccessOptions {
  readonly retry: RetryPolicy;
}

/** Backends over the AWS SDK, one client per region and service, sharing credentials. */
export class SdkBackends implements AmazonBackends {
  private readonly ec2s = new Map<string, SdkEc2Backend>();
  private readonly s3s = new Map<string, SdkBundleStore>();

  constructor(private readonly options: SdkBackendOptions) {}

  ec2(region: string): Ec2Backend {
    let b = this.ec2s.get(region);
    if (!b) this.ec2s.set(region, (b = new SdkEc2Backend(region, this.options)));
    return b;
  }

  s3(region: string): BundleStore {
    let b = this.s3s.get(region);
    if (!b) this.s3s.set(region, (b = new SdkBundleStore(region, this.options)));
    return b;
  }

  /** Closes every client's sockets. */
  destroy(): void {
    for (const b of this.ec2s.values()) b.destroy();
    for (const b of this.s3s.values()) b.destroy();
  }
}

/** Turns an SDK error into an `AwsApiError` naming the call, the code and EC2's message. */
function apiError(what: string, region: string, e: unknown): Error {
  if ((e as Error)?.name === "AbortError") return e as Error;
  const code = errorCode(e);
  const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return new AwsApiError(code, `${what} in ${region} failed: ${code}: ${(e as Error).message}`, status);
}

function tagSpecs(type: TagSpecification["ResourceType"], tags: Tags): TagSpecification[] {
  const list = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  return list.length ? [{ ResourceType: type, Tags: list }] : [];
}

function mappings(devices: readonly BlockDevice[]): BlockDeviceMapping[] {
  return devices.map((d) => ({
    DeviceName: d.deviceName,
    ...(d.virtualName ? { VirtualName: d.virtualName } : {}),
    ...(d.noDevice ? { NoDevice: "" } : {}),
    ...(!d.virtualName && !d.noDevice
      ? {
          Ebs: {
            ...(d.volumeSize !== undefined ? { VolumeSize: d.volumeSize } : {}),
            ...(d.volumeType ? { VolumeType: d.volumeType as never } : {}),
            ...(d.iops !== undefined ? { Iops: d.iops } : {}),
            ...(d.throughput !== undefined ? { Throughput: d.throughput } : {}),
            ...(d.deleteOnTermination !== undefined ? { DeleteOnTermination: d.deleteOnTermination } : {}),
            ...(d.encrypted !== undefined ? { Encrypted: d.encrypted } : {}),
            ...(d.kmsKeyId ? { KmsKeyId: d.kmsKeyId } : {}),
            ...(d.snapshotId ? { SnapshotId: d.snapshotId } : {}),
          },
        }
      : {}),
  }));
}

function amiInfo(img: Image): AmiInfo {
  const ebs = (img.BlockDeviceMappings ?? []).map((m) => m.Ebs).filter((e) => e !== undefined);
  return {
    id: img.ImageId ?? "",
    name: img.Name ?? "",
    state: img.State ?? "pending",
    ...(img.StateReason?.Message ? { stateReason: img.StateReason.Message } : {}),
    ownerId: img.OwnerId ?? "",
    ...(img.CreationDate ? { creationDate: img.CreationDate } : {}),
    rootDeviceType: img.RootDeviceType ?? "ebs",
    snapshotIds: ebs.map((e) => e.SnapshotId).filter((s): s is string => !!s),
    encrypted: ebs.length > 0 && ebs.every((e) => e.Encrypted === true),
  };
}

function instanceInfo(i: Instance): InstanceInfo {
  return {
    id: i.InstanceId ?? "",
    state: i.State?.Name ?? "pending",
    ...(i.PublicIpAddress ? { publicIp: i.PublicIpAddress } : {}),
    ...(i.PrivateIpAddress ? { privateIp: i.PrivateIpAddress } : {}),
    ...(i.PublicDnsName ? { publicDns: i.PublicDnsName } : {}),
    ...(i.PrivateDnsName ? { privateDns: i.PrivateDnsName } : {}),
    ...(i.SpotInstanceRequestId ? { spotRequestId: i.SpotInstanceRequestId } : {}),
    ...(i.RootDeviceType ? { rootDeviceType: i.RootDeviceType } : {}),
  };
}

const IMAGE_NOT_FOUND = ["InvalidAMIID.NotFound"];
const INSTANCE_NOT_FOUND = ["InvalidInstanceID.NotFound"];

/** EC2 (and STS) in one region. */
class SdkEc2Backend implements Ec2Backend {
  private readonly client: EC2Client;
  private readonly sts: STSClient;

  constructor(readonly region: string, private readonly options: SdkBackendOptions) {
    const credentials = credentialsFor(options, region);
    const ec2Endpoint = endpointFor("ec2", options);
    const stsEndpoint = endpointFor("sts", options);
    this.client = new EC2Client({ region, credentials, maxAttempts: 1, ...(ec2Endpoint ? { endpoint: ec2Endpoint } : {}) });
    this.sts = new STSClient({ region, credentials, maxAttempts: 1, ...(stsEndpoint ? { endpoint: stsEndpoint } : {}) });
  }

  destroy(): void {
    this.client.destroy();
    this.sts.destroy();
  }

  /**
   * The signal of a call that creates something. An abort must not cut it off mid-flight: EC2
   * would make the resource and imgc would never learn its id, so it could not clean it up.
   * Such calls finish (bounded by a timeout); the step then sees the abort at its next await.
   */
  private creating(): AbortSignal {
    return AbortSignal.timeout(120_000);
  }

  /** One retried call; `notFound` codes are retried too (eventual consistency). */
  private async call<T>(what: string, signal: AbortSignal, run: () => Promise<T>, notFound: readonly string[] = []): Promise<T> {
    try {
      return await withRetries(`${what} (${this.region})`, this.options.retry, signal, run, notFound);
    } catch (e) {
      throw apiError(what, this.region, e);
    }
  }

  async callerIdentity(signal: AbortSignal): Promise<CallerIdentity> {
    const out = await this.call("GetCallerIdentity", signal, () => this.sts.send(new GetCallerIdentityCommand({}), { abortSignal: signal }));
    return { accountId: out.Account ?? "", arn: out.Arn ?? "" };
  }

  async findImages(query: ImageQuery, signal: AbortSignal): Promise<AmiInfo[]> {
    const Filters = [
      ...(query.name ? [{ Name: "name", Values: [query.name] }] : []),
      ...Object.entries(query.filters ?? {}).map(([Name, Values]) => ({ Name, Values: [...Values] })),
    ];
    const out = await this.call("DescribeImages", signal, () =>
      this.client.send(new DescribeImagesCommand({ ...(query.owners?.length ? { Owners: [...query.owners] } : {}), ...(Filters.length ? { Filters } : {}) }), { abortSignal: signal }),
    );
    return (out.Images ?? []).map(amiInfo);
  }

  async describeImage(id: string, signal: AbortSignal, fresh = false): Promise<AmiInfo | undefined> {
    try {
      const out = await this.call("DescribeImages", signal, () => this.client.send(new DescribeImagesCommand({ ImageIds: [id] }), { abortSignal: signal }), fresh ? IMAGE_NOT_FOUND : []);
      const img = out.Images?.[0];
      return img ? amiInfo(img) : undefined;
    } catch (e) {
      if (e instanceof AwsApiError && e.code === "InvalidAMIID.NotFound") return undefined;
      throw e;
    }
  }

  async subnetVpc(subnetId: string, signal: AbortSignal): Promise<string> {
    const out = await this.call("DescribeSubnets", signal, () => this.client.send(new DescribeSubnetsCommand({ SubnetIds: [subnetId] }), { abortSignal: signal }));
    const vpc = out.Subnets?.[0]?.VpcId;
    if (!vpc) throw new AwsApiError("InvalidSubnetID.NotFound", `subnet ${subnetId} was not found in ${this.region}`);
    return vpc;
  }

  async importKeyPair(name: string, publicKeyLine: string, tags: Tags, buildSignal: AbortSignal): Promise<string> {
    buildSignal.throwIfAborted();
    const signal = this.creating();
    const out = await this.call("ImportKeyPair", signal, () =>
      this.client.send(new ImportKeyPairCommand({ KeyName: name, PublicKeyMaterial: Buffer.from(publicKeyLine), TagSpecifications: tagSpecs("key-pair", tags) }), { abortSignal: signal }),
    );
    return out.KeyPairId ?? name;
  }

  async deleteKeyPair(name: string, signal: AbortSignal): Promise<void> {
    await this.call("DeleteKeyPair", signal, () => this.client.send(new DeleteKeyPairCommand({ KeyName: name }), { abortSignal: signal }));
  }

  async createSecurityGroup(spec: { name: string; description: string; vpcId?: string; tags: Tags }, buildSignal: AbortSignal): Promise<string> {
    buildSignal.throwIfAborted();
    const signal = this.creating();
    const out = await this.call("CreateSecurityGroup", signal, () =>
      this.client.send(
        new CreateSecurityGroupCommand({ GroupName: spec.name, Description: spec.description, ...(spec.vpcId ? { VpcId: spec.vpcId } : {}), TagSpecifications: tagSpecs("security-group", spec.tags) }),
        { abortSignal: signal },
      ),
    );
    return out.GroupId!;
  }

  async allowTcp(groupId: string, port: number, cidrs: readonly string[], signal: AbortSignal): Promise<void> {
    await this.call(
      "AuthorizeSecurityGroupIngress",
      signal,
      () =>
        this.client.send(
          new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: "tcp", FromPort: port, ToPort: port, IpRanges: cidrs.map((CidrIp) => ({ CidrIp, Description: "imgc builder" })) }] }),
          { abortSignal: signal },
        ),
      ["InvalidGroup.NotFound"],
    );
  }

  async deleteSecurityGroup(groupId: string, signal: AbortSignal): Promise<void> {
    try {
      // An instance that is still shutting down holds the group: DependencyViolation is retried.
      await this.call("DeleteSecurityGroup", signal, () => this.client.send(new DeleteSecurityGroupCommand({ GroupId: groupId }), { abortSignal: signal }), ["DependencyViolation"]);
    } catch (e) {
      if (e instanceof AwsApiError && e.code === "InvalidGroup.NotFound") return;
      throw e;
    }
  }

  async runInstance(spec: LaunchSpec, buildSignal: AbortSignal): Promise<InstanceInfo> {
    buildSignal.throwIfAborted();
    const signal = this.creating();
    const nic = spec.associatePublicIp !== undefined;
    const out = await this.call("RunInstances", signal, () =>
      this.client.send(
        new RunInstancesCommand({
          ImageId: spec.imageId,
          InstanceType: spec.instanceType as _InstanceType,
          MinCount: 1,
          MaxCount: 1,
          ...(spec.keyName ? { KeyName: spec.keyName } : {}),
          ...(nic
            ? { NetworkInterfaces: [{ DeviceIndex: 0, AssociatePublicIpAddress: spec.associatePublicIp, Groups: [...spec.securityGroupIds], ...(spec.subnetId ? { SubnetId: spec.subnetId } : {}) }] }
            : { SecurityGroupIds: [...spec.securityGroupIds], ...(spec.subnetId ? { SubnetId: spec.subnetId } : {}) }),
          ...(spec.iamInstanceProfile ? { IamInstanceProfile: spec.iamInstanceProfile.startsWith("arn:") ? { Arn: spec.iamInstanceProfile } : { Name: spec.iamInstanceProfile } } : {}),
          ...(spec.userData !== undefined ? { UserData: Buffer.from(spec.userData).toString("base64") } : {}),
          ...(spec.blockDevices.length ? { BlockDeviceMappings: mappings(spec.blockDevices) } : {}),
          ...(spec.spot ? { InstanceMarketOptions: { MarketType: "spot", SpotOptions: { SpotInstanceType: "one-time", InstanceInterruptionBehavior: "terminate", ...(spec.spot.maxPrice ? { MaxPrice: spec.spot.maxPrice } : {}) } } } : {}),
          TagSpecifications: [...tagSpecs("instance", spec.tags), ...tagSpecs("volume", spec.tags)],
        }),
        { abortSignal: signal },
      ),
    );
    const inst = out.Instances?.[0];
    if (!inst) throw new AwsApiError("NoInstance", `RunInstances in ${this.region} returned no instance`);
    return instanceInfo(inst);
  }

  async describeInstance(id: string, signal: AbortSignal): Promise<InstanceInfo | undefined> {
    try {
      const out = await this.call("DescribeInstances", signal, () => this.client.send(new DescribeInstancesCommand({ InstanceIds: [id] }), { abortSignal: signal }), INSTANCE_NOT_FOUND);
      const inst = out.Reservations?.[0]?.Instances?.[0];
      return inst ? instanceInfo(inst) : undefined;
    } catch (e) {
      if (e instanceof AwsApiError && e.code === "InvalidInstanceID.NotFound") return undefined;
      throw e;
    }
  }

  async stopInstance(id: string, signal: AbortSignal): Promise<void> {
    await this.call("StopInstances", signal, () => this.client.send(new StopInstancesCommand({ InstanceIds: [id] }), { abortSignal: signal }), INSTANCE_NOT_FOUND);
  }

  async terminateInstance(id: string, signal: AbortSignal): Promise<void> {
    try {
      await this.call("TerminateInstances", signal, () => this.client.send(new TerminateInstancesCommand({ InstanceIds: [id] }), { abortSignal: signal }), INSTANCE_NOT_FOUND);
    } catch (e) {
      if (e instanceof AwsApiError && e.code === "InvalidInstanceID.NotFound") return;
      throw e;
    }
  }

  async cancelSpotRequest(id: string, signal: AbortSignal): Promise<void> {
    try {
      await this.call("CancelSpotInstanceRequests", signal, () => this.client.send(new CancelSpotInstanceRequestsCommand({ SpotInstanceRequestIds: [id] }), { abortSignal: signal }));
    } catch (e) {
      if (e instanceof AwsApiError && e.code === "InvalidSpotInstanceRequestID.NotFound") return;
      throw e;
    }
  }

  async createImage(spec: { instanceId: string; name: string; description?: string; blockDevices: readonly BlockDevice[] }, buildSignal: AbortSignal): Promise<string> {
    buildSignal.throwIfAborted();
    const signal = this.creating();
    const out = await this.call("CreateImage", signal, () =>
      this.client.send(
        new CreateImageCommand({
          InstanceId: spec.instanceId,
          Name: spec.name,
          ...(spec.description ? { Description: spec.description } : {}),
          ...(spec.blockDevices.length ? { BlockDeviceMappings: mappings(spec.blockDevices) } : {}),
        }),
        { abortSignal: signal },
      ),
    );
    return out.ImageId!;
  }

  async registerImage(spec: { name: string; description?: string; manifestLocation: string; architecture: string; virtualizationType: string; blockDevices: readonly BlockDevice[] }, buildSignal: AbortSignal): Promise<string> {
    buildSignal.throwIfAborted();
    const signal = this.creating();
    const out = await this.call("RegisterImage", signal, () =>
      this.client.send(
        new RegisterImageCommand({
          Name: spec.name,
          ImageLocation: spec.manifestLocation,
          Architecture: spec.architecture as never,
          VirtualizationType: spec.virtualizationType,
          ...(spec.description ? { Description: spec.description } : {}),
          ...(spec.blockDevices.length ? { BlockDeviceMappings: mappings(spec.blockDevices) } : {}),
        }),
        { abortSignal: signal },
      ),
    );
    return out.ImageId!;
  }

  async copyImage(spec: { sourceRegion: string; sourceImageId: string; name: string; description?: string; encrypted: boolean; kmsKeyId?: string }, buildSignal: AbortSignal): Promise<string> {
    buildSignal.throwIfAborted();
    const signal = this.creating();
    const out = await this.call(
      "CopyImage",
      signal,
      () =>
        this.client.send(
          new CopyImageCommand({
            SourceRegion: spec.sourceRegion,
            SourceImageId: spec.sourceImageId,
            Name: spec.name,
            ...(spec.description ? { Description: spec.description } : {}),
            ...(spec.encrypted ? { Encrypted: true } : {}),
            ...(spec.kmsKeyId ? { KmsKeyId: spec.kmsKeyId } : {}),
          }),
          { abortSignal: signal },
        ),
      IMAGE_NOT_FOUND,
    );
    return out.ImageId!;
  }

  async deregisterImage(id: string, signal: AbortSignal): Promise<void> {
    try {
      await this.call("DeregisterImage", signal, () => this.client.send(new DeregisterImageCommand({ ImageId: id }), { abortSignal: signal }));
    } catch (e) {
      if (e instanceof AwsApiError && e.code === "InvalidAMIID.NotFound") return;
      throw e;
    }
  }

  async deleteSnapshot(id: string, signal: AbortSignal): Promise<void> {
    try {
      // Right after DeregisterImage the snapshot may still count as in use for a moment.
      await this.call("DeleteSnapshot", signal, () => this.client.send(new DeleteSnapshotCommand({ SnapshotId: id }), { abortSignal: signal }), ["InvalidSnapshot.InUse"]);
    } catch (e) {
      if (e instanceof AwsApiError && e.code === "InvalidSnapshot.NotFound") return;
      throw e;
    }
  }

  async tag(resourceIds: readonly string[], tags: Tags, signal: AbortSignal): Promise<void> {
    const Tags = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
    if (!Tags.length || !resourceIds.length) return;
    await this.call("CreateTags", signal, () => this.client.send(new CreateTagsCommand({ Resources: [...resourceIds], Tags }), { abortSignal: signal }), [
      ...IMAGE_NOT_FOUND,
      ...INSTANCE_NOT_FOUND,
      "InvalidSnapshot.NotFound",
    ]);
  }

  async shareImage(id: string, share: { users: readonly string[]; groups: readonly string[] }, signal: AbortSignal): Promise<void> {
    const Add = [...share.users.map((UserId) => ({ UserId })), ...share.groups.map((Group) => ({ Group: Group as "all" }))];
    if (!Add.length) return;
    await this.call("ModifyImageAttribute", signal, () => this.client.send(new ModifyImageAttributeCommand({ ImageId: id, LaunchPermission: { Add } }), { abortSignal: signal }), IMAGE_NOT_FOUND);
  }
}

/** S3 in one region, for bundles. */
class SdkBundleStore implements BundleStore {
  private readonly client: S3Client;

  constructor(private readonly region: string, private readonly options: SdkBackendOptions) {
    const endpoint = endpointFor("s3", options);
    this.client = new S3Client({ region, credentials: credentialsFor(options, region), maxAttempts: 1, ...(endpoint ? { endpoint, forcePathStyle: true } : {}) });
  }

  destroy(): void {
    this.client.destroy();
  }

  private async call<T>(what: string, signal: AbortSignal, run: () => Promise<T>): Promise<T> {
    try {
      return await withRetries(`${what} (${this.region})`, this.options.retry, signal, run);
    } catch (e) {
      throw apiError(what, this.region, e);
    }
  }

  async put(bucket: string, key: string, body: Buffer, signal: AbortSignal): Promise<void> {
    await this.call("PutObject", signal, () => this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }), { abortSignal: signal }));
  }

  async deletePrefix(bucket: string, prefix: string, signal: AbortSignal): Promise<void> {
    const listed = await this.call("ListObjectsV2", signal, () => this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }), { abortSignal: signal }));
    const keys = (listed.Contents ?? []).map((c) => c.Key!).filter(Boolean);
    for (const key of keys) await this.call("DeleteObject", signal, () => this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal }));
  }
}
