/**
 * amazon.instance against the EC2 and S3 simulators: the bundle command really runs on the
 * "instance" (a real sshd), imgc uploads the bundle through the communicator and the S3 API,
 * the AMI is registered from the manifest and copied; a failed registration deletes the bundle.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import driver from "../../../runtime/platforms/amazon/instance/driver.js";
import { manifestParts } from "../../../runtime/platforms/amazon/steps/bundle.js";
import { baseOptions, nodeFor, OTHER, REGION, runBuild, startRig, THIRD, type Rig } from "./harness.js";

let rig: Rig;
let sourceAmi: string;
let certDir: string;
beforeAll(async () => {
  rig = await startRig();
  sourceAmi = rig.ec2.seedImage(REGION, { name: "debian-12-instance-store", rootDeviceType: "instance-store" }).id;
  certDir = rig.sshd.dir;
  writeFileSync(join(certDir, "cert.pem"), "-----BEGIN CERTIFICATE-----\nimgc test\n-----END CERTIFICATE-----\n");
  writeFileSync(join(certDir, "pk.pem"), "-----BEGIN PRIVATE KEY-----\nimgc-test-x509-key-material\n-----END PRIVATE KEY-----\n");
});
afterAll(async () => {
  await rig?.stop();
});
beforeEach(() => rig.ec2.clearFaults());

// Stands in for ec2-bundle-vol: checks what imgc uploaded, writes two parts and a manifest.
const BUNDLE = [
  "set -e",
  "test -s {{.CertPath}} && test -s {{.KeyPath}}",
  'test "{{.AccountId}}" = 123456789012 && test "{{.Architecture}}" = x86_64',
  "mkdir -p {{.Destination}} && cd {{.Destination}}",
  "head -c 3000 /dev/urandom > {{.Prefix}}.part.0",
  "head -c 1000 /dev/urandom > {{.Prefix}}.part.1",
  "printf '<manifest><image><parts count=\"2\"><part index=\"0\"><filename>{{.Prefix}}.part.0</filename></part><part index=\"1\"><filename>{{.Prefix}}.part.1</filename></part></parts></image></manifest>' > {{.Prefix}}.manifest.xml",
].join("\n");

function instanceOptions(extra: Record<string, unknown> = {}) {
  const home = join(rig.sshd.dir, "home");
  return baseOptions(rig, {
    sourceAmi,
    s3Bucket: "bundles",
    s3Prefix: `web/${Math.random().toString(36).slice(2, 8)}/`,
    x509CertPath: join(certDir, "cert.pem"),
    x509KeyPath: join(certDir, "pk.pem"),
    x509UploadPath: home,
    bundleDestination: join(home, "bundle"),
    bundlePrefix: "web",
    bundleCommand: BUNDLE,
    ...extra,
  });
}

describe("amazon.instance", () => {
  it("bundles on the instance, uploads to S3, registers from the manifest, copies, tags; destroy removes AMIs and bundle", async () => {
    rig.s3.buckets.set("bundles", new Map());
    const opts = instanceOptions({ amiRegions: [OTHER], tags: { Kind: "instance-store" } });
    const run = await runBuild(driver, opts, { node: nodeFor("amazon-instance") });
    expect(run.result.error).toBeUndefined();
    const data = run.artifact!.data as { region: Record<string, string>; bundle: { bucket: string; prefix: string } };
    expect(run.artifact!.platform).toBe("amazon-instance");
    const prefix = opts.s3Prefix as string;
    expect(data.bundle).toEqual({ bucket: "bundles", prefix, region: REGION });
    const objects = rig.s3.buckets.get("bundles")!;
    expect([...objects.keys()].filter((k) => k.startsWith(prefix)).sort()).toEqual([`${prefix}web.manifest.xml`, `${prefix}web.part.0`, `${prefix}web.part.1`]);
    expect(objects.get(`${prefix}web.part.0`)!.body.length).toBe(3000);
    const img = rig.ec2.region(REGION).images.get(data.region[REGION]!)!;
    expect(img.rootDeviceType).toBe("instance-store");
    expect(img.imageLocation).toBe(`bundles/${prefix}web.manifest.xml`);
    expect(img.tags.get("Kind")).toBe("instance-store");
    expect(rig.ec2.region(OTHER).images.get(data.region[OTHER]!)!.origin).toEqual({ kind: "copy", from: img.id, region: REGION });
    // The X.509 key never reaches the logs, and it is removed from the instance.
    expect(run.redacted.some((r) => r.includes("imgc-test-x509-key-material"))).toBe(true);
    expect(run.log.lines.join("\n")).not.toContain("imgc-test-x509-key-material");
    expect(rig.ec2.live()).toEqual({ instances: [], keyPairs: [], securityGroups: [], spotRequests: [] });

    await driver.destroy!(run.artifact!, { projectRoot: "/", log: run.log, options: opts } as never, AbortSignal.timeout(10_000));
    expect([...objects.keys()].filter((k) => k.startsWith(prefix))).toEqual([]);
    expect(rig.ec2.ownImages(REGION)).toEqual([]);
    expect(rig.ec2.ownImages(OTHER)).toEqual([]);
  });

  it("a failed registration deletes the uploaded bundle and leaves nothing", async () => {
    rig.s3.buckets.set("bundles", new Map());
    rig.ec2.fault({ kind: "fail", action: "RegisterImage", code: "InvalidManifest", message: "injected: manifest unreadable" });
    const run = await runBuild(driver, instanceOptions(), { node: nodeFor("amazon-instance") });
    expect(run.result.error!.message).toContain("RegisterImage in eu-west-1 failed: InvalidManifest");
    expect([...rig.s3.buckets.get("bundles")!.keys()]).toEqual([]);
    expect(rig.ec2.live()).toEqual({ instances: [], keyPairs: [], securityGroups: [], spotRequests: [] });
    expect(rig.ec2.ownImages(REGION)).toEqual([]);
  });

  it("a failing bundle command fails with its exit code", async () => {
    const run = await runBuild(driver, instanceOptions({ bundleCommand: "echo no AMI tools here >&2; exit 7" }), { node: nodeFor("amazon-instance") });
    expect(run.result.error!.message).toContain("bundling the volume failed on the instance (exit code 7)");
    expect(rig.ec2.live(THIRD).instances).toEqual([]);
    expect(rig.ec2.live()).toEqual({ instances: [], keyPairs: [], securityGroups: [], spotRequests: [] });
  });

  it("reads part names from a manifest", () => {
    expect(manifestParts("<manifest><parts><part><filename>a.part.0</filename></part><part><filename> a.part.1 </filename></part></parts></manifest>")).toEqual(["a.part.0", "a.part.1"]);
  });
});
