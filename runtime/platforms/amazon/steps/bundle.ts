/**
 * Instance-store AMIs (Packer's amazon-instance): upload the X.509 certificate and key, bundle
 * the root volume on the instance with the AMI tools' command, upload the bundle to S3 (with
 * the configured command on the instance, or by imgc through the communicator and the S3 API),
 * and register the AMI from the manifest. A failed build deletes the uploaded bundle.
 */
import { readFile, mkdir } from "node:fs/promises";
import { join, posix } from "node:path";
import type { Communicator, Step } from "../../../types.js";
import { info, type AmazonContext } from "../context.js";
import type { BundleSettings } from "../settings.js";
import { dropHalfMadeAmi } from "./create-image.js";
import { waitAvailable } from "./images.js";

/** Paths of the bundle on the instance. */
function remotePaths(b: BundleSettings) {
  return {
    cert: posix.join(b.uploadPath, "imgc-x509-cert.pem"),
    key: posix.join(b.uploadPath, "imgc-x509-key.pem"),
    manifest: posix.join(b.destination, `${b.bundlePrefix}.manifest.xml`),
  };
}

/** Fills Packer-style `{{.Name}}` placeholders; an unknown one is an error naming it. */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>, option: string): string {
  return template.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_m, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`${option} uses {{.${name}}}, which is not one of ${Object.keys(values).map((k) => `{{.${k}}}`).join(", ")}`);
    return v;
  });
}

function templateValues(ctx: AmazonContext): Record<string, string> {
  const b = ctx.settings.bundle!;
  const p = remotePaths(b);
  return {
    KeyPath: p.key,
    CertPath: p.cert,
    AccountId: ctx.accountId ?? "",
    Architecture: b.architecture,
    Destination: b.destination,
    Prefix: b.bundlePrefix,
    PrivatePath: b.uploadPath,
    BucketName: b.bucket,
    ManifestPath: p.manifest,
    Region: ctx.settings.region,
    S3Prefix: b.prefix,
  };
}

async function runRemote(comm: Communicator, ctx: AmazonContext, command: string, what: string, signal: AbortSignal): Promise<void> {
  const result = await comm.exec(
    { command, onStdout: (c) => ctx.env.log.output("stdout", c.toString()), onStderr: (c) => ctx.env.log.output("stderr", c.toString()) },
    signal,
  );
  if (result.exitCode !== 0) throw new Error(`${what} failed on the instance (exit code ${result.exitCode ?? "none: the connection dropped"}): ${command.split(" ").slice(0, 3).join(" ")} …`);
}

/** Uploads the certificate and key the bundle is signed with. */
export const uploadX509Step: Step<AmazonContext> = {
  name: "upload-x509",
  async run(ctx, signal) {
    const b = ctx.settings.bundle!;
    if (!ctx.accountId) ctx.accountId = b.accountId ?? (await ctx.ec2.callerIdentity(signal)).accountId;
    const p = remotePaths(b);
    const key = await readFile(b.keyFile);
    ctx.env.redact(key.toString("utf8"));
    await ctx.comm!.upload(p.cert, await readFile(b.certFile), { mode: 0o600 }, signal);
    await ctx.comm!.upload(p.key, key, { mode: 0o600 }, signal);
  },
  async cleanup(ctx) {
    // The key must not stay in the image or on a kept instance.
    const comm = ctx.comm;
    if (!comm || !ctx.settings.bundle || !ctx.comm?.connected) return;
    const p = remotePaths(ctx.settings.bundle);
    await comm.exec({ command: `rm -f '${p.cert}' '${p.key}'` }, AbortSignal.timeout(30_000)).catch(() => undefined);
  },
};

/** Runs the bundle command. */
export const bundleVolumeStep: Step<AmazonContext> = {
  name: "bundle-volume",
  async run(ctx, signal) {
    const command = fillTemplate(ctx.settings.bundle!.bundleCommand, templateValues(ctx), "bundleCommand");
    info(ctx, "bundling the volume on the instance");
    await runRemote(ctx.comm!, ctx, command, "bundling the volume", signal);
  },
};

/** Part file names listed in a bundle manifest (`<filename>` elements). */
export function manifestParts(manifestXml: string): string[] {
  return [...manifestXml.matchAll(/<filename>\s*([^<]+?)\s*<\/filename>/g)].map((m) => m[1]!);
}

/** Uploads the bundle: the upload command on the instance, or imgc itself via the communicator. */
export const uploadBundleStep: Step<AmazonContext> = {
  name: "upload-bundle",
  async run(ctx, signal) {
    const b = ctx.settings.bundle!;
    const p = remotePaths(b);
    const manifestKey = `${b.prefix}${b.bundlePrefix}.manifest.xml`;
    ctx.bundleLocation = { bucket: b.bucket, prefix: b.prefix, manifestKey };
    if (b.uploadCommand) {
      await runRemote(ctx.comm!, ctx, fillTemplate(b.uploadCommand, templateValues(ctx), "uploadCommand"), "uploading the bundle", signal);
      return;
    }
    const local = join(ctx.env.workDir, "bundle");
    await mkdir(local, { recursive: true });
    await ctx.comm!.download(p.manifest, join(local, "manifest.xml"), signal);
    const manifest = await readFile(join(local, "manifest.xml"));
    const parts = manifestParts(manifest.toString("utf8"));
    if (parts.length === 0) throw new Error(`the bundle manifest ${p.manifest} lists no parts; did the bundle command succeed?`);
    const s3 = ctx.backends.s3(ctx.settings.region);
    for (const part of parts) {
      if (part.includes("/")) throw new Error(`the bundle manifest names a part outside the bundle directory: ${part}`);
      const file = join(local, part);
      await ctx.comm!.download(posix.join(b.destination, part), file, signal);
      await s3.put(b.bucket, `${b.prefix}${part}`, await readFile(file), signal);
    }
    await s3.put(b.bucket, manifestKey, manifest, signal);
    info(ctx, `uploaded the bundle (${parts.length} parts) to s3://${b.bucket}/${b.prefix}`);
  },
  async cleanup(ctx, outcome) {
    if (outcome === "ok" || !ctx.bundleLocation) return;
    await ctx.backends.s3(ctx.settings.region).deletePrefix(ctx.bundleLocation.bucket, ctx.bundleLocation.prefix, AbortSignal.timeout(ctx.settings.waitMs));
    info(ctx, `deleted the unfinished bundle s3://${ctx.bundleLocation.bucket}/${ctx.bundleLocation.prefix}`);
    ctx.bundleLocation = undefined;
  },
};

/** RegisterImage from the manifest, then wait available. */
export const registerImageStep: Step<AmazonContext> = {
  name: "register-image",
  async run(ctx, signal) {
    const b = ctx.settings.bundle!;
    const o = ctx.settings.options;
    const loc = ctx.bundleLocation!;
    const id = await ctx.ec2.registerImage(
      {
        name: o.amiName,
        ...(o.amiDescription ? { description: o.amiDescription } : {}),
        manifestLocation: `${loc.bucket}/${loc.manifestKey}`,
        architecture: b.architecture,
        virtualizationType: b.virtualizationType,
        blockDevices: ctx.settings.amiDevices,
      },
      signal,
    );
    ctx.ami = id;
    ctx.env.log.track({ kind: "AMI", id, where: ctx.settings.region });
    ctx.snapshots[ctx.settings.region] = await waitAvailable(ctx, ctx.ec2, id, signal);
    ctx.amis[ctx.settings.region] = id;
    info(ctx, `registered instance-store AMI ${id} from s3://${loc.bucket}/${loc.manifestKey}`);
  },
  cleanup: dropHalfMadeAmi,
};
