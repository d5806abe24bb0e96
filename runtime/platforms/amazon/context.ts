/** The typed context the Amazon steps share (no string-keyed state bag). */
import { randomBytes } from "node:crypto";
import type { SshCommunicator } from "../../communicators/ssh.js";
import type { DriverEnv } from "../../types.js";
import type { AmazonBackends, Ec2Backend, InstanceInfo } from "./backend.js";
import type { AmazonSettings } from "./settings.js";

/** One Amazon build: its settings, its backends, and what the steps made so far. */
export interface AmazonContext {
  readonly env: DriverEnv;
  readonly settings: AmazonSettings;
  readonly backends: AmazonBackends;
  /** EC2 in the build region. */
  readonly ec2: Ec2Backend;
  /** Base name of temporary resources, e.g. `imgc-web-amazon-ebs-3f9a1c2e` (unique per build). */
  readonly tempName: string;
  /** The AMI the instance starts from, once found. */
  sourceAmi?: string;
  /** The caller's account id, once asked (instance-store bundles need it). */
  accountId?: string;
  /** The key pair the instance is launched with. */
  keyPairName?: string;
  /** True when the build made that key pair (so cleanup deletes it). */
  keyPairCreated?: boolean;
  /** The private key imgc connects with (temporary key's, or the given file's). */
  privateKey?: string;
  /** Security groups of the instance. */
  securityGroupIds?: readonly string[];
  /** The temporary security group, when the build made one. */
  createdSecurityGroup?: string;
  /** The build instance, once launched (refreshed when it runs). */
  instance?: InstanceInfo;
  /** True when it runs on the spot market. */
  spot?: boolean;
  /** The SSH communicator, once connected. */
  comm?: SshCommunicator;
  /** The AMI in the build region, once requested. */
  ami?: string;
  /** AMIs by region, once available (the build region first). */
  readonly amis: Record<string, string>;
  /** Snapshot ids by region. */
  readonly snapshots: Record<string, string[]>;
  /** Where the instance-store bundle went. */
  bundleLocation?: { readonly bucket: string; readonly prefix: string; readonly manifestKey: string };
}

/** A readable, unique name for temporary resources: `imgc-<node>-<8 hex>`. */
export function temporaryName(nodeId: string): string {
  const readable = nodeId.replace(/[^A-Za-z0-9-]+/g, "-").slice(0, 40);
  return `imgc-${readable}-${randomBytes(4).toString("hex")}`;
}

/** Logs through the node's log. */
export function info(ctx: AmazonContext, message: string): void {
  ctx.env.log.log("info", message);
}
