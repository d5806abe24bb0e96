/**
 * The simulator's state: one `RegionState` per region (images, snapshots, instances, key pairs,
 * security groups, spot requests, subnets), lifecycles driven by timers, and the faults the
 * control API arms.
 */
import { randomBytes } from "node:crypto";

/** Tags as EC2 keeps them. */
export type Tags = Map<string, string>;

/** An EBS block device of an image or instance. */
export interface SimBlockDevice {
  deviceName: string;
  ebs?: { snapshotId?: string; volumeSize: number; volumeType: string; deleteOnTermination: boolean; encrypted: boolean; kmsKeyId?: string; iops?: number; throughput?: number };
  virtualName?: string;
  noDevice?: boolean;
}

/** An AMI. */
export interface SimImage {
  id: string;
  name: string;
  description?: string;
  state: "pending" | "available" | "failed" | "deregistered";
  stateReason?: string;
  ownerId: string;
  public: boolean;
  rootDeviceType: "ebs" | "instance-store";
  rootDeviceName: string;
  architecture: string;
  virtualizationType: string;
  enaSupport: boolean;
  imageLocation?: string;
  blockDevices: SimBlockDevice[];
  tags: Tags;
  launchUsers: Set<string>;
  launchGroups: Set<string>;
  creationDate: string;
  /** The instance or image it was made from (for tests' assertions). */
  origin?: { kind: "instance" | "copy" | "manifest" | "seed"; from?: string; region?: string };
  /** Stays pending forever (never-available fault). */
  stuck?: boolean;
}

/** An EBS snapshot. */
export interface SimSnapshot {
  id: string;
  volumeSize: number;
  encrypted: boolean;
  kmsKeyId?: string;
  state: "pending" | "completed";
  ownerId: string;
  description?: string;
  tags: Tags;
  startTime: string;
}

/** Instance lifecycle states with their EC2 codes. */
export const INSTANCE_CODES = { pending: 0, running: 16, "shutting-down": 32, terminated: 48, stopping: 64, stopped: 80 } as const;
export type InstanceState = keyof typeof INSTANCE_CODES;

/** An instance. */
export interface SimInstance {
  id: string;
  imageId: string;
  instanceType: string;
  state: InstanceState;
  keyName?: string;
  securityGroupIds: string[];
  subnetId: string;
  vpcId: string;
  privateIp: string;
  publicIp?: string;
  iamInstanceProfile?: string;
  userData?: string;
  lifecycle?: "spot";
  spotRequestId?: string;
  blockDevices: SimBlockDevice[];
  rootDeviceType: "ebs" | "instance-store";
  rootDeviceName: string;
  launchTime: string;
  tags: Tags;
  /** Never leaves pending (fault). */
  stuck?: boolean;
}

/** A key pair. */
export interface SimKeyPair {
  id: string;
  name: string;
  fingerprint: string;
  publicKey: string;
  keyType: string;
  tags: Tags;
}

/** An ingress rule. */
export interface SimPermission {
  ipProtocol: string;
  fromPort?: number;
  toPort?: number;
  cidrs: string[];
  groupIds: string[];
}

/** A security group. */
export interface SimSecurityGroup {
  id: string;
  name: string;
  description: string;
  vpcId: string;
  ingress: SimPermission[];
  tags: Tags;
}

/** A spot instance request (made by RunInstances with the spot market). */
export interface SimSpotRequest {
  id: string;
  state: "open" | "active" | "closed" | "cancelled";
  statusCode: string;
  maxPrice?: string;
  instanceId?: string;
  instanceType: string;
  createTime: string;
}

/** A subnet (each region starts with one in its default VPC). */
export interface SimSubnet {
  id: string;
  vpcId: string;
  cidr: string;
  availabilityZone: string;
  defaultForAz: boolean;
}

/** Everything one region holds. */
export class RegionState {
  readonly images = new Map<string, SimImage>();
  readonly snapshots = new Map<string, SimSnapshot>();
  readonly instances = new Map<string, SimInstance>();
  readonly keyPairs = new Map<string, SimKeyPair>();
  readonly securityGroups = new Map<string, SimSecurityGroup>();
  readonly spotRequests = new Map<string, SimSpotRequest>();
  readonly subnets = new Map<string, SimSubnet>();
  readonly defaultVpcId: string;

  constructor(readonly name: string) {
    this.defaultVpcId = newId("vpc");
    const subnet: SimSubnet = { id: newId("subnet"), vpcId: this.defaultVpcId, cidr: "172.31.0.0/20", availabilityZone: `${name}a`, defaultForAz: true };
    this.subnets.set(subnet.id, subnet);
    const sg: SimSecurityGroup = { id: newId("sg"), name: "default", description: "default VPC security group", vpcId: this.defaultVpcId, ingress: [], tags: new Map() };
    this.securityGroups.set(sg.id, sg);
  }
}

/** EC2-shaped ids: `ami-0123456789abcdef0`. */
export function newId(prefix: string): string {
  return `${prefix}-${randomBytes(9).toString("hex").slice(0, 17)}`;
}

/** A fault armed through the control API. */
export type Fault =
  /** The next `count` matching requests answer 503 RequestLimitExceeded. */
  | { kind: "throttle"; action?: string; region?: string; count: number }
  /** New images answer InvalidAMIID.NotFound to the next `calls` requests that name them. */
  | { kind: "image-not-found-after-create"; calls: number; count: number }
  /** New instances answer InvalidInstanceID.NotFound to the next `calls` requests that name them. */
  | { kind: "instance-not-found-after-run"; calls: number; count: number }
  /** The next instance launched never leaves `pending`. */
  | { kind: "instance-never-running"; count: number }
  /** The next CopyImage (into `region`, if given) makes an image that ends `failed`. */
  | { kind: "copy-image-fails"; region?: string; count: number }
  /** The next `count` calls of `action` fail with `code`. */
  | { kind: "fail"; action: string; code: string; message?: string; status?: number; region?: string; count: number }
  /** Spot capacity: RunInstances on the spot market fails with InsufficientInstanceCapacity. */
  | { kind: "no-spot-capacity"; count: number };

/** The parts of a fault the control API accepts (count defaults to 1). */
export type FaultInput = { [K in Fault["kind"]]: Omit<Extract<Fault, { kind: K }>, "count"> & { count?: number } }[Fault["kind"]];

/** How long lifecycles take, in ms (short in tests). */
export interface SimTimings {
  instanceStart: number;
  instanceStop: number;
  instanceTerminate: number;
  imageAvailable: number;
}
