/**
 * The resolved options of one Amazon build, with defaults applied and durations in ms: what the
 * steps read. Built from the node's resolved options (no lazy values left; local paths are the
 * IR's `$path` markers or plain strings relative to the project root).
 */
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseDuration, type Duration } from "../../../lang/duration.js";
import type { BlockDevice } from "./backend.js";
import type { AwsAccessOptions } from "./credentials.js";
import type { AmazonBlockDevice, AmazonEbsOptions, AmazonInstanceOptions } from "./factory.js";

/** The platform types this driver serves. */
export type AmazonType = "amazon-ebs" | "amazon-instance";

/** A value after resolution: lazy inputs became their values. */
type Resolved<T> = T extends { readonly expr: unknown; readonly site: unknown }
  ? never
  : T extends string | number | boolean | undefined | null
    ? T
    : T extends readonly (infer U)[]
      ? readonly Resolved<U>[]
      : T extends object
        ? { readonly [K in keyof T]: Resolved<T[K]> }
        : T;

/** Options of either type, resolved. */
export type ResolvedAmazonOptions = Resolved<AmazonEbsOptions> & Partial<Resolved<Omit<AmazonInstanceOptions, keyof AmazonEbsOptions>>>;

/** Instance-store bundle settings. */
export interface BundleSettings {
  readonly bucket: string;
  readonly prefix: string;
  readonly accountId?: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly uploadPath: string;
  readonly destination: string;
  readonly bundlePrefix: string;
  readonly bundleCommand: string;
  readonly uploadCommand?: string;
  readonly architecture: string;
  readonly virtualizationType: string;
}

/** What the steps read. */
export interface AmazonSettings {
  readonly type: AmazonType;
  readonly region: string;
  readonly amiRegions: readonly string[];
  readonly options: ResolvedAmazonOptions;
  readonly access: AwsAccessOptions;
  readonly pollMs: number;
  readonly waitMs: number;
  readonly maxRetries: number;
  readonly sshPort: number;
  readonly launchDevices: readonly BlockDevice[];
  readonly amiDevices: readonly BlockDevice[];
  readonly tags: Readonly<Record<string, string>>;
  readonly snapshotTags: Readonly<Record<string, string>>;
  readonly userData?: string;
  readonly bundle?: BundleSettings;
}

/** Packer's default bundle command for the AMI tools. */
export const DEFAULT_BUNDLE_COMMAND =
  "sudo -i -n ec2-bundle-vol -k {{.KeyPath}} -u {{.AccountId}} -c {{.CertPath}} -r {{.Architecture}} -e {{.PrivatePath}}/* -d {{.Destination}} -p {{.Prefix}} --batch --no-filter";

/** A local path option: an IR `$path` marker, a file URL, or a path relative to the project root. */
export function localFile(value: unknown, projectRoot: string): string {
  if (typeof value === "object" && value !== null && "$path" in value) return String((value as { $path: string }).$path);
  if (typeof value === "object" && value !== null && "path" in value && "base" in value) {
    const v = value as { path: string; base: string };
    return isAbsolute(v.path) ? v.path : resolve(v.base, v.path);
  }
  const s = String(value);
  if (s.startsWith("file:")) return fileURLToPath(s);
  return isAbsolute(s) ? s : resolve(projectRoot, s);
}

function devices(list: readonly Resolved<AmazonBlockDevice>[] | undefined): BlockDevice[] {
  return (list ?? []).map((d) => ({ ...d }));
}

/** Reads and checks the options of a build; throws a sentence naming the option on bad input. */
export function settingsFrom(type: AmazonType, raw: unknown, projectRoot: string): AmazonSettings {
  const o = raw as ResolvedAmazonOptions;
  if (!o || typeof o.region !== "string") throw new Error(`${type}: the option "region" is required (e.g. "eu-west-1")`);
  if (typeof o.instanceType !== "string") throw new Error(`${type}: the option "instanceType" is required (e.g. "t3.micro")`);
  if (typeof o.amiName !== "string" || o.amiName.length < 3) throw new Error(`${type}: the option "amiName" is required (3 to 128 characters)`);
  if (!o.ssh?.username) throw new Error(`${type}: the option "ssh.username" is required (the user the source AMI lets in, e.g. "admin" on Debian)`);
  const amiRegions = [...new Set((o.amiRegions ?? []).map(String))].filter((r) => r !== o.region);
  const tags = { ...(o.tags ?? {}) } as Record<string, string>;
  const userData = o.userData ?? (o.userDataFile !== undefined ? readFileSync(localFile(o.userDataFile, projectRoot), "utf8") : undefined);
  let bundle: BundleSettings | undefined;
  if (type === "amazon-instance") {
    if (!o.s3Bucket) throw new Error(`amazon-instance: the option "s3Bucket" is required (where the bundle is uploaded)`);
    if (o.x509CertPath === undefined || o.x509KeyPath === undefined) throw new Error(`amazon-instance: the options "x509CertPath" and "x509KeyPath" are required (the AMI tools sign the bundle)`);
    const prefix = o.s3Prefix ?? `imgc/${o.amiName}/`;
    bundle = {
      bucket: o.s3Bucket,
      prefix: prefix.endsWith("/") || prefix === "" ? prefix : `${prefix}/`,
      ...(o.accountId ? { accountId: o.accountId.replace(/-/g, "") } : {}),
      certFile: localFile(o.x509CertPath, projectRoot),
      keyFile: localFile(o.x509KeyPath, projectRoot),
      uploadPath: o.x509UploadPath ?? "/tmp",
      destination: o.bundleDestination ?? "/tmp",
      bundlePrefix: o.bundlePrefix ?? "image",
      bundleCommand: o.bundleCommand ?? DEFAULT_BUNDLE_COMMAND,
      ...(o.uploadCommand ? { uploadCommand: o.uploadCommand } : {}),
      architecture: o.amiArchitecture ?? "x86_64",
      virtualizationType: o.amiVirtualizationType ?? "hvm",
    };
  }
  return {
    type,
    region: o.region,
    amiRegions,
    options: o,
    access: {
      ...(o.profile ? { profile: o.profile } : {}),
      ...(o.accessKey ? { accessKey: o.accessKey, secretKey: o.secretKey ?? "" } : {}),
      ...(o.sessionToken ? { sessionToken: o.sessionToken } : {}),
      ...(o.assumeRole ? { assumeRole: o.assumeRole } : {}),
      ...(o.endpoints ? { endpoints: o.endpoints } : {}),
    },
    pollMs: parseDuration((o.pollInterval ?? "5s") as Duration),
    waitMs: parseDuration((o.waitTimeout ?? "30m") as Duration),
    maxRetries: o.maxRetries ?? 8,
    sshPort: Number(o.ssh.port ?? 22),
    launchDevices: devices(o.launchBlockDeviceMappings),
    amiDevices: devices(o.amiBlockDeviceMappings),
    tags,
    snapshotTags: { ...((o.snapshotTags ?? tags) as Record<string, string>) },
    ...(userData !== undefined ? { userData } : {}),
    ...(bundle ? { bundle } : {}),
  };
}
