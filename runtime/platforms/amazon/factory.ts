/**
 * The Amazon EC2 platform factories (`imgc/platforms/amazon`): `amazon.ebs({...})` builds an
 * EBS-backed AMI (launch, provision, stop, snapshot), `amazon.instance({...})` an instance-store
 * AMI (bundle the volume on the instance, upload the bundle to S3, register it). Both can copy
 * the AMI to more regions, share it and tag it. Imports nothing from `runtime/` and no SDK.
 */
import { z } from "zod";
import { sshOptionsSchema, type SshOptions } from "../../../lang/communicator.js";
import type { Duration } from "../../../lang/duration.js";
import { definePlatform, type CompileTime, type Input, type VarRef } from "../../../lang/index.js";
import type { PathLike } from "../../../lang/path.js";
import { durationSchema, input, refSchema } from "../../../lang/schema.js";

/** Which AMI to start from, found by a query (`aws ec2 describe-images`). */
export interface AmazonSourceAmiFilter {
  /** Owners: account ids, `self`, `amazon`, `aws-marketplace`. Required, so a look-alike AMI published by a stranger is never picked. */
  readonly owners: readonly string[];
  /** Name pattern with `*` and `?` wildcards, e.g. `"debian-12-amd64-*"`. */
  readonly name?: Input<string>;
  /** More DescribeImages filters, name → value(s), e.g. `{ architecture: "x86_64", "root-device-type": "ebs" }`. */
  readonly filters?: Readonly<Record<string, string | readonly string[]>>;
  /** Pick the newest match when several match; otherwise several matches are an error. @default false */
  readonly mostRecent?: boolean;
}

/** One block device of the instance or the AMI (EC2's BlockDeviceMapping). */
export interface AmazonBlockDevice {
  /** Device name, e.g. `/dev/xvda` (the root device) or `/dev/sdb`. */
  readonly deviceName: string;
  /** Size in GiB. @default the snapshot's size */
  readonly volumeSize?: number;
  /** Volume type: `gp3`, `gp2`, `io1`, `io2`, `st1`, `sc1`, `standard`. @default "gp2" (EC2's default) */
  readonly volumeType?: "gp3" | "gp2" | "io1" | "io2" | "st1" | "sc1" | "standard";
  /** Provisioned IOPS (io1, io2, gp3). */
  readonly iops?: number;
  /** Throughput in MiB/s (gp3). */
  readonly throughput?: number;
  /** Delete the volume when the instance terminates. @default true */
  readonly deleteOnTermination?: boolean;
  /** Encrypt the volume. */
  readonly encrypted?: boolean;
  /** KMS key for the volume's encryption (id, ARN or alias). @default the account's EBS default key */
  readonly kmsKeyId?: Input<string>;
  /** Start the volume from this snapshot. */
  readonly snapshotId?: Input<string>;
  /** An instance-store volume (`ephemeral0`…) instead of EBS. */
  readonly virtualName?: string;
  /** Suppress this device of the source AMI. */
  readonly noDevice?: boolean;
}

/** Run the build instance on the spot market. */
export interface AmazonSpotOptions {
  /** Highest price per hour, in USD, e.g. `"0.05"`. @default the on-demand price (EC2's default) */
  readonly maxPrice?: Input<string>;
  /** When no spot capacity is available at that price, launch an on-demand instance instead of failing. @default false */
  readonly fallbackToOnDemand?: boolean;
}

/** Assume this IAM role for every call (credentials come from the usual chain first). */
export interface AmazonAssumeRole {
  /** ARN of the role, e.g. `arn:aws:iam::123456789012:role/imgc-builder`. */
  readonly roleArn: Input<string>;
  /** Session name shown in CloudTrail. @default "imgc" */
  readonly sessionName?: string;
  /** External id the role's trust policy requires. */
  readonly externalId?: Input<string>;
  /** Session length in seconds. @default 3600 */
  readonly durationSeconds?: number;
}

/** Service endpoints, for VPC endpoints, GovCloud/China partitions or a local simulator. */
export interface AmazonEndpoints {
  /** EC2 endpoint URL. @default the `AWS_ENDPOINT_URL_EC2` / `AWS_ENDPOINT_URL` environment variable, else the region's */
  readonly ec2?: string;
  /** STS endpoint URL (assume-role, identity). @default `AWS_ENDPOINT_URL_STS` / `AWS_ENDPOINT_URL`, else the region's */
  readonly sts?: string;
  /** S3 endpoint URL (instance-store bundles); path-style addressing is used when set. @default `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`, else the region's */
  readonly s3?: string;
}

/** Options shared by `amazon.ebs` and `amazon.instance`. */
export interface AmazonCommonOptions {
  /** Region where the instance is launched and the AMI made, e.g. `"eu-west-1"`. Decides the graph's shape, so only a literal or a variable. */
  readonly region: CompileTime<string>;
  /** Source AMI id, e.g. `"ami-0abc…"`. Leave out when using `sourceAmiFilter` or `from`. */
  readonly sourceAmi?: Input<string>;
  /** Find the source AMI by owner and name. Leave out when using `sourceAmi` or `from`. */
  readonly sourceAmiFilter?: AmazonSourceAmiFilter;
  /** Instance type of the build instance, e.g. `"t3.micro"`. */
  readonly instanceType: Input<string>;
  /** Name of the new AMI (3–128 characters; letters, digits, spaces and `()[]./-'@_`). */
  readonly amiName: Input<string>;
  /** Description of the new AMI. */
  readonly amiDescription?: Input<string>;
  /** More regions to copy the AMI to. Decides the graph's shape, so only literals or a variable. */
  readonly amiRegions?: readonly CompileTime<string>[] | VarRef<readonly string[]>;
  /** KMS key per copy region for encrypted copies, region → key id/ARN/alias. @default the region's EBS default key */
  readonly regionKmsKeyIds?: Readonly<Record<string, Input<string>>>;
  /** Account ids allowed to launch the AMI (in every region). */
  readonly amiUsers?: readonly Input<string>[];
  /** Groups allowed to launch the AMI; `"all"` makes it public. */
  readonly amiGroups?: readonly "all"[];
  /** Tags of the AMI (and, unless `snapshotTags` is set, of its snapshots), in every region. */
  readonly tags?: Readonly<Record<string, Input<string>>>;
  /** Tags of the AMI's snapshots. @default `tags` */
  readonly snapshotTags?: Readonly<Record<string, Input<string>>>;
  /** Tags of the build instance (and its volumes). */
  readonly runTags?: Readonly<Record<string, Input<string>>>;
  /** When an AMI of the same name exists (owned by you, in any target region): deregister it first. Otherwise the build stops with an error. @default false */
  readonly forceDeregister?: boolean;
  /** With `forceDeregister`, also delete the old AMI's snapshots. @default false */
  readonly forceDeleteSnapshot?: boolean;
  /** Subnet of the build instance. @default the default VPC's subnet */
  readonly subnetId?: Input<string>;
  /** VPC of the temporary security group. @default the subnet's VPC, else the default VPC */
  readonly vpcId?: Input<string>;
  /** Security groups of the build instance. When absent, a temporary group is made that admits SSH from the builder's address only. */
  readonly securityGroupIds?: readonly Input<string>[];
  /** Sources the temporary security group admits. @default the builder's public address /32, from `builderAddressUrl` */
  readonly temporarySecurityGroupSourceCidrs?: readonly string[];
  /** URL that answers with the caller's public address, to open the temporary group to it only. @default "https://checkip.amazonaws.com" */
  readonly builderAddressUrl?: string;
  /** Existing key pair to launch with (its private key is `ssh.privateKeyFile`). When absent, a temporary ed25519 key pair is made and deleted. */
  readonly keyPairName?: Input<string>;
  /** IAM instance profile of the build instance (name or ARN). */
  readonly iamInstanceProfile?: Input<string>;
  /** User data passed to the instance (cloud-init), as text. */
  readonly userData?: Input<string>;
  /** User data from a local file (relative to the definitions file). */
  readonly userDataFile?: PathLike;
  /** Block devices of the build instance (e.g. a bigger root volume). */
  readonly launchBlockDeviceMappings?: readonly AmazonBlockDevice[];
  /** Block devices recorded in the AMI (added to or overriding the instance's). */
  readonly amiBlockDeviceMappings?: readonly AmazonBlockDevice[];
  /** Run the build instance on the spot market. */
  readonly spot?: AmazonSpotOptions;
  /** Give the build instance a public address. @default the subnet's setting */
  readonly associatePublicIpAddress?: boolean;
  /** Which address of the instance imgc connects to (a bastion reaches private ones). @default "public_ip" when the instance has one, else "private_ip" */
  readonly sshInterface?: "public_ip" | "private_ip" | "public_dns" | "private_dns";
  /** SSH connection to the build instance: `username` is required; the key is the temporary one unless `privateKeyFile` is set; `bastion` for private subnets. */
  readonly ssh: SshOptions;
  /** Encrypt the AMI's boot volume (with `kmsKeyId`, or the account's default EBS key). @default false */
  readonly encryptBoot?: boolean;
  /** KMS key for `encryptBoot` in the build region. */
  readonly kmsKeyId?: Input<string>;
  /** Named profile of the shared config and credentials files. @default `AWS_PROFILE`, else "default" */
  readonly profile?: string;
  /** Access key id (pass a `secret()`); leave out to use the environment, the shared files, SSO or the instance's role. */
  readonly accessKey?: Input<string>;
  /** Secret access key (pass a `secret()`). */
  readonly secretKey?: Input<string>;
  /** Session token of temporary credentials (pass a `secret()`). */
  readonly sessionToken?: Input<string>;
  /** Assume this role for every call. */
  readonly assumeRole?: AmazonAssumeRole;
  /** Service endpoint overrides. */
  readonly endpoints?: AmazonEndpoints;
  /** Interval between state polls (instance running, AMI available). @default "5s" */
  readonly pollInterval?: Duration;
  /** How long to wait for the instance to run, stop or terminate, and for an AMI to become available. @default "30m" */
  readonly waitTimeout?: Duration;
  /** Attempts of an API call that EC2 throttled or that hit a not-yet-visible resource. @default 8 */
  readonly maxRetries?: number;
}

/** Options of `amazon.ebs()`. */
export interface AmazonEbsOptions extends AmazonCommonOptions {}

/** Options of `amazon.instance()`: what to bundle and where the bundle goes. */
export interface AmazonInstanceOptions extends AmazonCommonOptions {
  /** S3 bucket the bundle is uploaded to (in the build region). */
  readonly s3Bucket: Input<string>;
  /** Key prefix of the bundle in the bucket. @default "imgc/<amiName>/" */
  readonly s3Prefix?: Input<string>;
  /** Your AWS account id (the AMI tools need it; without dashes). @default the caller's, from STS */
  readonly accountId?: Input<string>;
  /** Local path of the X.509 certificate the AMI tools sign the bundle with. */
  readonly x509CertPath: PathLike;
  /** Local path of the X.509 private key (never printed). */
  readonly x509KeyPath: PathLike;
  /** Where the certificate and key are uploaded on the instance. @default "/tmp" */
  readonly x509UploadPath?: string;
  /** Directory on the instance where the bundle is written. @default "/tmp" */
  readonly bundleDestination?: string;
  /** File name prefix of the bundle. @default "image" */
  readonly bundlePrefix?: string;
  /**
   * Command run on the instance to bundle its volume. Placeholders: `{{.KeyPath}}`,
   * `{{.CertPath}}`, `{{.AccountId}}`, `{{.Architecture}}`, `{{.Destination}}`, `{{.Prefix}}`,
   * `{{.PrivatePath}}` (Packer's names).
   * @default "sudo -i -n ec2-bundle-vol -k {{.KeyPath}} -u {{.AccountId}} -c {{.CertPath}} -r {{.Architecture}} -e {{.PrivatePath}}/* -d {{.Destination}} -p {{.Prefix}} --batch --no-filter"
   */
  readonly bundleCommand?: string;
  /**
   * Command run on the instance to upload the bundle (placeholders as `bundleCommand`, plus
   * `{{.BucketName}}`, `{{.ManifestPath}}`, `{{.Region}}`, `{{.S3Prefix}}`). When absent, imgc reads the manifest and its
   * parts over the communicator and uploads them with the S3 API itself, so the instance
   * needs neither the AMI tools' uploader nor AWS credentials.
   */
  readonly uploadCommand?: string;
  /** Architecture of the bundle and the AMI. @default "x86_64" */
  readonly amiArchitecture?: "x86_64" | "arm64" | "i386";
  /** Virtualization type of the AMI. @default "hvm" */
  readonly amiVirtualizationType?: "hvm" | "paravirtual";
}

const str = input(z.string());
const tagMap = z.record(z.string(), str);
const pathLike = z.union([z.string(), z.instanceof(URL)]);
const compileTimeString = z.union([z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, "expected a region name such as eu-west-1"), refSchema]);

const blockDevice = z.strictObject({
  deviceName: z.string(),
  volumeSize: z.number().int().positive().optional(),
  volumeType: z.enum(["gp3", "gp2", "io1", "io2", "st1", "sc1", "standard"]).optional(),
  iops: z.number().int().positive().optional(),
  throughput: z.number().int().positive().optional(),
  deleteOnTermination: z.boolean().optional(),
  encrypted: z.boolean().optional(),
  kmsKeyId: str.optional(),
  snapshotId: str.optional(),
  virtualName: z.string().optional(),
  noDevice: z.boolean().optional(),
});

const commonShape = {
  region: compileTimeString,
  sourceAmi: str.optional(),
  sourceAmiFilter: z
    .strictObject({
      owners: z.array(z.string()).min(1, "name at least one owner"),
      name: str.optional(),
      filters: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
      mostRecent: z.boolean().optional(),
    })
    .optional(),
  instanceType: str,
  amiName: str,
  amiDescription: str.optional(),
  amiRegions: z.union([z.array(compileTimeString), refSchema]).optional(),
  regionKmsKeyIds: tagMap.optional(),
  amiUsers: z.array(str).optional(),
  amiGroups: z.array(z.literal("all")).optional(),
  tags: tagMap.optional(),
  snapshotTags: tagMap.optional(),
  runTags: tagMap.optional(),
  forceDeregister: z.boolean().optional(),
  forceDeleteSnapshot: z.boolean().optional(),
  subnetId: str.optional(),
  vpcId: str.optional(),
  securityGroupIds: z.array(str).optional(),
  temporarySecurityGroupSourceCidrs: z.array(z.string().regex(/^[\d.:a-fA-F]+\/\d+$/, "expected a CIDR such as 203.0.113.4/32")).optional(),
  builderAddressUrl: z.string().url().optional(),
  keyPairName: str.optional(),
  iamInstanceProfile: str.optional(),
  userData: str.optional(),
  userDataFile: pathLike.optional(),
  launchBlockDeviceMappings: z.array(blockDevice).optional(),
  amiBlockDeviceMappings: z.array(blockDevice).optional(),
  spot: z.strictObject({ maxPrice: str.optional(), fallbackToOnDemand: z.boolean().optional() }).optional(),
  associatePublicIpAddress: z.boolean().optional(),
  sshInterface: z.enum(["public_ip", "private_ip", "public_dns", "private_dns"]).optional(),
  ssh: sshOptionsSchema,
  encryptBoot: z.boolean().optional(),
  kmsKeyId: str.optional(),
  profile: z.string().optional(),
  accessKey: str.optional(),
  secretKey: str.optional(),
  sessionToken: str.optional(),
  assumeRole: z
    .strictObject({ roleArn: str, sessionName: z.string().optional(), externalId: str.optional(), durationSeconds: z.number().int().min(900).max(43200).optional() })
    .optional(),
  endpoints: z.strictObject({ ec2: z.string().url().optional(), sts: z.string().url().optional(), s3: z.string().url().optional() }).optional(),
  pollInterval: durationSchema.optional(),
  waitTimeout: durationSchema.optional(),
  maxRetries: z.number().int().min(1).max(30).optional(),
};

type Common = { sourceAmi?: unknown; sourceAmiFilter?: unknown; userData?: unknown; userDataFile?: unknown; accessKey?: unknown; secretKey?: unknown; forceDeleteSnapshot?: boolean; forceDeregister?: boolean; keyPairName?: unknown; ssh: { privateKeyFile?: unknown; agent?: boolean } };

function commonChecks<T extends z.ZodType<Common>>(schema: T) {
  return schema
    .refine((o) => !(o.sourceAmi !== undefined && o.sourceAmiFilter !== undefined), { message: "set sourceAmi or sourceAmiFilter, not both", path: ["sourceAmiFilter"] })
    .refine((o) => !(o.userData !== undefined && o.userDataFile !== undefined), { message: "set userData or userDataFile, not both", path: ["userDataFile"] })
    .refine((o) => (o.accessKey === undefined) === (o.secretKey === undefined), { message: "accessKey and secretKey go together", path: ["secretKey"] })
    .refine((o) => !o.forceDeleteSnapshot || o.forceDeregister, { message: "forceDeleteSnapshot needs forceDeregister: true", path: ["forceDeleteSnapshot"] })
    .refine((o) => o.keyPairName === undefined || o.ssh.privateKeyFile !== undefined || o.ssh.agent === true, {
      message: "with keyPairName, give its private key as ssh.privateKeyFile (or ssh.agent: true)",
      path: ["ssh", "privateKeyFile"],
    });
}

/** Runtime check of `amazon.ebs` options. */
export const amazonEbsOptionsSchema = commonChecks(z.strictObject(commonShape));

/** Runtime check of `amazon.instance` options. */
export const amazonInstanceOptionsSchema = commonChecks(
  z.strictObject({
    ...commonShape,
    s3Bucket: str,
    s3Prefix: str.optional(),
    accountId: str.optional(),
    x509CertPath: pathLike,
    x509KeyPath: pathLike,
    x509UploadPath: z.string().optional(),
    bundleDestination: z.string().optional(),
    bundlePrefix: z.string().regex(/^[\w.-]+$/, "use letters, digits, '.', '-' and '_'").optional(),
    bundleCommand: z.string().optional(),
    uploadCommand: z.string().optional(),
    amiArchitecture: z.enum(["x86_64", "arm64", "i386"]).optional(),
    amiVirtualizationType: z.enum(["hvm", "paravirtual"]).optional(),
  }),
);

const artifactFields = ["id", "region", "name", "snapshots"] as const;

/** The Amazon EC2 platforms. */
export const amazon = {
  /**
   * An EBS-backed AMI: launch an instance from `sourceAmi` (or `sourceAmiFilter`, or the
   * upstream image's AMI in the same region), provision it over SSH, stop it, make the AMI,
   * copy it to `amiRegions`. The artifact is region → AMI id.
   */
  ebs: definePlatform<"amazon-ebs", AmazonEbsOptions>({
    type: "amazon-ebs",
    driver: "imgc/drivers/amazon",
    version: 1,
    schema: amazonEbsOptionsSchema,
    artifactFields,
  }),
  /**
   * An instance-store AMI: launch, provision, bundle the volume on the instance with the AMI
   * tools, upload the bundle to `s3Bucket`, register the AMI from its manifest, copy it to
   * `amiRegions`. The artifact is region → AMI id.
   */
  instance: definePlatform<"amazon-instance", AmazonInstanceOptions>({
    type: "amazon-instance",
    driver: "imgc/drivers/amazon/instance",
    version: 1,
    schema: amazonInstanceOptionsSchema,
    artifactFields,
  }),
};
