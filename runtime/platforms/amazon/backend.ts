/**
 * What the Amazon steps need from AWS, in domain verbs, for one region. The real implementation
 * (`backend-sdk.ts`) wraps the AWS SDK clients with retries; steps never see an SDK type.
 */

/** Tags, key → value. */
export type Tags = Readonly<Record<string, string>>;

/** A block device as the steps describe it (EC2's BlockDeviceMapping, flattened). */
export interface BlockDevice {
  readonly deviceName: string;
  readonly volumeSize?: number;
  readonly volumeType?: string;
  readonly iops?: number;
  readonly throughput?: number;
  readonly deleteOnTermination?: boolean;
  readonly encrypted?: boolean;
  readonly kmsKeyId?: string;
  readonly snapshotId?: string;
  readonly virtualName?: string;
  readonly noDevice?: boolean;
}

/** What the steps know of an AMI. */
export interface AmiInfo {
  readonly id: string;
  readonly name: string;
  readonly state: "pending" | "available" | "invalid" | "deregistered" | "transient" | "failed" | "error" | "disabled" | (string & {});
  /** Why it failed, when it did. */
  readonly stateReason?: string;
  readonly ownerId: string;
  readonly creationDate?: string;
  readonly rootDeviceType: "ebs" | "instance-store" | (string & {});
  /** Snapshot ids of its EBS devices. */
  readonly snapshotIds: readonly string[];
  readonly encrypted: boolean;
}

/** A DescribeImages query. */
export interface ImageQuery {
  readonly owners?: readonly string[];
  /** Name pattern (`*`, `?`). */
  readonly name?: string;
  /** More filters, name → values. */
  readonly filters?: Readonly<Record<string, readonly string[]>>;
}

/** What the steps know of an instance. */
export interface InstanceInfo {
  readonly id: string;
  readonly state: "pending" | "running" | "shutting-down" | "terminated" | "stopping" | "stopped" | (string & {});
  readonly publicIp?: string;
  readonly privateIp?: string;
  readonly publicDns?: string;
  readonly privateDns?: string;
  readonly spotRequestId?: string;
  readonly rootDeviceType?: string;
}

/** How to launch the build instance. */
export interface LaunchSpec {
  readonly imageId: string;
  readonly instanceType: string;
  readonly keyName?: string;
  readonly securityGroupIds: readonly string[];
  readonly subnetId?: string;
  readonly associatePublicIp?: boolean;
  readonly iamInstanceProfile?: string;
  /** Plain text; the backend base64-encodes it. */
  readonly userData?: string;
  readonly blockDevices: readonly BlockDevice[];
  readonly tags: Tags;
  /** Launch on the spot market, at most at this price (`undefined` price: EC2's default cap). */
  readonly spot?: { readonly maxPrice?: string };
}

/** A failure EC2 reported, with its error code (e.g. `InsufficientInstanceCapacity`). */
export class AwsApiError extends Error {
  constructor(readonly code: string, message: string, readonly status?: number) {
    super(message);
    this.name = "AwsApiError";
  }
}

/** The AWS account and principal the credentials belong to. */
export interface CallerIdentity {
  readonly accountId: string;
  readonly arn: string;
}

/** EC2 in one region. Every call takes the build's abort signal. */
export interface Ec2Backend {
  /** The region this backend talks to. */
  readonly region: string;
  /** Who the credentials are (also proves they work). */
  callerIdentity(signal: AbortSignal): Promise<CallerIdentity>;
  /** Images matching a query (visible to the caller). */
  findImages(query: ImageQuery, signal: AbortSignal): Promise<AmiInfo[]>;
  /**
   * One image; `undefined` when it does not exist. With `fresh` (an image this build just
   * asked for), "not found" is retried for a while first: EC2 is eventually consistent.
   */
  describeImage(id: string, signal: AbortSignal, fresh?: boolean): Promise<AmiInfo | undefined>;
  /** The VPC of a subnet. */
  subnetVpc(subnetId: string, signal: AbortSignal): Promise<string>;
  /** Imports a public key as a key pair; returns its id. */
  importKeyPair(name: string, publicKeyLine: string, tags: Tags, signal: AbortSignal): Promise<string>;
  /** Deletes a key pair (absent is fine). */
  deleteKeyPair(name: string, signal: AbortSignal): Promise<void>;
  /** Makes a security group; returns its id. */
  createSecurityGroup(spec: { name: string; description: string; vpcId?: string; tags: Tags }, signal: AbortSignal): Promise<string>;
  /** Admits TCP on `port` from `cidrs`. */
  allowTcp(groupId: string, port: number, cidrs: readonly string[], signal: AbortSignal): Promise<void>;
  /** Deletes a security group (absent is fine; retried while an instance still uses it). */
  deleteSecurityGroup(groupId: string, signal: AbortSignal): Promise<void>;
  /** Launches one instance. */
  runInstance(spec: LaunchSpec, signal: AbortSignal): Promise<InstanceInfo>;
  /** One instance; `undefined` when it does not exist (new ones are retried for a while). */
  describeInstance(id: string, signal: AbortSignal): Promise<InstanceInfo | undefined>;
  /** Asks an instance to stop. */
  stopInstance(id: string, signal: AbortSignal): Promise<void>;
  /** Asks an instance to terminate (absent is fine). */
  terminateInstance(id: string, signal: AbortSignal): Promise<void>;
  /** Cancels a spot request (absent is fine). */
  cancelSpotRequest(id: string, signal: AbortSignal): Promise<void>;
  /** Makes an AMI from a (stopped) instance; returns its id. */
  createImage(spec: { instanceId: string; name: string; description?: string; blockDevices: readonly BlockDevice[] }, signal: AbortSignal): Promise<string>;
  /** Registers an instance-store AMI from a bundle manifest in S3 (`bucket/key`); returns its id. */
  registerImage(spec: { name: string; description?: string; manifestLocation: string; architecture: string; virtualizationType: string; blockDevices: readonly BlockDevice[] }, signal: AbortSignal): Promise<string>;
  /** Copies an AMI from another region into this one; returns the copy's id. */
  copyImage(spec: { sourceRegion: string; sourceImageId: string; name: string; description?: string; encrypted: boolean; kmsKeyId?: string }, signal: AbortSignal): Promise<string>;
  /** Deregisters an AMI (absent is fine). */
  deregisterImage(id: string, signal: AbortSignal): Promise<void>;
  /** Deletes a snapshot (absent is fine). */
  deleteSnapshot(id: string, signal: AbortSignal): Promise<void>;
  /** Tags resources; a just-made resource that is not visible yet is retried. */
  tag(resourceIds: readonly string[], tags: Tags, signal: AbortSignal): Promise<void>;
  /** Lets accounts and groups launch an AMI. */
  shareImage(id: string, share: { users: readonly string[]; groups: readonly string[] }, signal: AbortSignal): Promise<void>;
}

/** S3, for instance-store bundles. */
export interface BundleStore {
  /** Uploads one object. */
  put(bucket: string, key: string, body: Buffer, signal: AbortSignal): Promise<void>;
  /** Deletes objects under a prefix (cleanup of a failed bundle). */
  deletePrefix(bucket: string, prefix: string, signal: AbortSignal): Promise<void>;
}

/** Makes the region backends of one build (shared credentials, one client per region). */
export interface AmazonBackends {
  ec2(region: string): Ec2Backend;
  s3(region: string): BundleStore;
}
