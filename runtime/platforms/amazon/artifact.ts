/**
 * The Amazon artifact: region → AMI id (the build region's AMI is the artifact's id), with the
 * snapshots and, for instance-store AMIs, the bundle's S3 location. `exists` checks every AMI is
 * still available; `destroy` deregisters them and deletes their snapshots in every region.
 */
import type { ArtifactRecord } from "../../types.js";
import type { AmazonBackends } from "./backend.js";
import type { AmazonContext } from "./context.js";
import { deregisterWithSnapshots } from "./steps/images.js";

/** The artifact's `data`. Templates read `artifact("amazon-ebs").get("region.us-east-1")`. */
export interface AmazonArtifactData {
  /** AMI id per region. */
  readonly region: Readonly<Record<string, string>>;
  /** The AMI name. */
  readonly name: string;
  /** Snapshot ids per region. */
  readonly snapshots: Readonly<Record<string, readonly string[]>>;
  /** The bundle of an instance-store AMI. */
  readonly bundle?: { readonly bucket: string; readonly prefix: string; readonly region: string };
  /** [key: string]: Json, for ArtifactRecord's constraint. */
  readonly [key: string]: unknown;
}

/** The artifact record of a finished build. */
export function artifactOf(ctx: AmazonContext): ArtifactRecord {
  const buildRegion = ctx.settings.region;
  const ordered = Object.fromEntries([buildRegion, ...ctx.settings.amiRegions].filter((r) => ctx.amis[r]).map((r) => [r, ctx.amis[r]!]));
  const data = {
    region: ordered,
    name: ctx.settings.options.amiName,
    snapshots: Object.fromEntries(Object.entries(ctx.snapshots).map(([r, s]) => [r, [...s]])),
    ...(ctx.bundleLocation ? { bundle: { bucket: ctx.bundleLocation.bucket, prefix: ctx.bundleLocation.prefix, region: buildRegion } } : {}),
  };
  return { node: ctx.env.resolved.node.id, platform: ctx.settings.type, id: ctx.amis[buildRegion]!, files: [], data };
}

function dataOf(artifact: ArtifactRecord): AmazonArtifactData {
  const data = artifact.data as unknown as AmazonArtifactData | null;
  if (!data || typeof data.region !== "object") throw new Error(`the state's record of ${artifact.node} has no region → AMI map; it was not made by the amazon driver`);
  return data;
}

/** True when every region's AMI is still there and available. */
export async function artifactExists(artifact: ArtifactRecord, backends: AmazonBackends, signal: AbortSignal): Promise<boolean> {
  for (const [region, id] of Object.entries(dataOf(artifact).region)) {
    const ami = await backends.ec2(region).describeImage(id, signal);
    if (!ami || ami.state !== "available") return false;
  }
  return true;
}

/** Deregisters every region's AMI, deletes its snapshots, and deletes the bundle. */
export async function destroyArtifact(artifact: ArtifactRecord, backends: AmazonBackends, signal: AbortSignal, log: (m: string) => void): Promise<void> {
  const data = dataOf(artifact);
  for (const [region, id] of Object.entries(data.region)) {
    await deregisterWithSnapshots(backends.ec2(region), id, signal);
    log(`deregistered ${id} in ${region} and deleted its snapshots`);
  }
  if (data.bundle) {
    await backends.s3(data.bundle.region).deletePrefix(data.bundle.bucket, data.bundle.prefix, signal);
    log(`deleted the bundle s3://${data.bundle.bucket}/${data.bundle.prefix}`);
  }
}
