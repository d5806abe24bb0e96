/**
 * amazon.ebs against the EC2 simulator through the real AWS SDK, with provisioners running over
 * SSH on a real sshd: a full build copied to two regions, encrypted and shared; retries absorb
 * throttling and eventual consistency; forceDeregister; spot; a base → web chain.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import driver from "../../../runtime/platforms/amazon/driver.js";
import { baseOptions, nodeFor, OTHER, REGION, runBuild, sh, startRig, THIRD, type Rig } from "./harness.js";

let rig: Rig;
beforeAll(async () => {
  rig = await startRig();
});
afterAll(async () => {
  await rig?.stop();
});
beforeEach(() => rig.ec2.clearFaults());

function expectNothingLeft() {
  const live = rig.ec2.live();
  expect(live.instances).toEqual([]);
  expect(live.keyPairs).toEqual([]);
  expect(live.securityGroups).toEqual([]);
  expect(live.spotRequests).toEqual([]);
}

describe("amazon.ebs full build", () => {
  it("provisions over SSH, copies to two regions encrypted with per-region keys, tags, shares, and leaves nothing behind", async () => {
    const marker = `/tmp/imgc-ebs-${Date.now()}`;
    const opts = baseOptions(rig, {
      amiRegions: [OTHER, THIRD],
      encryptBoot: true,
      kmsKeyId: "alias/build-key",
      regionKmsKeyIds: { [OTHER]: "alias/us-key", [THIRD]: "alias/ap-key" },
      amiUsers: ["210987654321"],
      amiGroups: ["all"],
      tags: { Name: "web", Team: "platform" },
      snapshotTags: { Kind: "snap" },
      runTags: { Purpose: "build" },
      iamInstanceProfile: "imgc-builder",
      userData: "#cloud-config\n",
      launchBlockDeviceMappings: [{ deviceName: "/dev/xvda", volumeSize: 20, volumeType: "gp3" }],
    });
    let hostname = "";
    const run = await runBuild(driver, opts, {
      provision: async (comm, signal) => {
        hostname = await sh(comm, `echo built > ${marker} && cat ${marker}`, signal);
      },
    });
    expect(run.result.error).toBeUndefined();
    expect(run.result.outcome).toBe("ok");
    expect(hostname.trim()).toBe("built");
    const data = run.artifact!.data as { region: Record<string, string>; snapshots: Record<string, string[]> };
    expect(Object.keys(data.region)).toEqual([REGION, OTHER, THIRD]);
    expect(run.artifact!.id).toBe(data.region[REGION]);

    for (const [region, kms] of [[REGION, "alias/build-key"], [OTHER, "alias/us-key"], [THIRD, "alias/ap-key"]] as const) {
      const img = rig.ec2.region(region).images.get(data.region[region]!)!;
      expect(img.state).toBe("available");
      expect(img.name).toBe(opts.amiName);
      expect(img.tags.get("Team")).toBe("platform");
      expect([...img.launchUsers]).toEqual(["210987654321"]);
      expect(img.public).toBe(true);
      for (const d of img.blockDevices) {
        expect(d.ebs?.encrypted).toBe(true);
        expect(d.ebs?.kmsKeyId).toBe(kms);
        const snap = rig.ec2.region(region).snapshots.get(d.ebs!.snapshotId!)!;
        expect(snap.tags.get("Kind")).toBe("snap");
      }
      // Only the final AMI carries the name: the unencrypted intermediate is gone with its snapshots.
      expect(rig.ec2.ownImages(region).map((i) => i.id)).toEqual([data.region[region]]);
    }
    const launched = [...rig.ec2.region(REGION).instances.values()].at(-1)!;
    expect(launched.iamInstanceProfile).toContain("instance-profile/imgc-builder");
    expect(launched.userData).toBe("#cloud-config\n");
    expect(launched.blockDevices[0]!.ebs!.volumeSize).toBe(20);
    expect(launched.tags.get("Purpose")).toBe("build");
    expect(run.env.facts.instanceId).toBe(launched.id);
    expect(run.redacted).toContain("imgc-test-secret-key-value");
    expect(run.log.lines.join("\n")).not.toContain("imgc-test-secret-key-value");
    expect(run.log.live.size).toBe(0);
    expectNothingLeft();

    // The cache's check, then destroy: every region's AMI and snapshots go.
    const aenv = { projectRoot: "/", log: run.env.log, options: opts };
    expect(await driver.exists!(run.artifact!, aenv as never, AbortSignal.timeout(10_000))).toBe(true);
    await driver.destroy!(run.artifact!, aenv as never, AbortSignal.timeout(10_000));
    expect(await driver.exists!(run.artifact!, aenv as never, AbortSignal.timeout(10_000))).toBe(false);
    for (const region of [REGION, OTHER, THIRD]) {
      expect(rig.ec2.ownImages(region)).toEqual([]);
      expect([...rig.ec2.region(region).snapshots.values()].filter((s) => s.ownerId === rig.ec2.options.accountId)).toEqual([]);
    }
  });
});

describe("retries", () => {
  it("absorbs RequestLimitExceeded throttling and InvalidAMIID/InvalidInstanceID.NotFound after creation", async () => {
    for (const action of ["DescribeImages", "RunInstances", "CreateImage", "CopyImage", "CreateTags", "ImportKeyPair", "StopInstances"]) rig.ec2.fault({ kind: "throttle", action, count: 2 });
    rig.ec2.fault({ kind: "image-not-found-after-create", calls: 3, count: 5 });
    rig.ec2.fault({ kind: "instance-not-found-after-run", calls: 2, count: 1 });
    const before = rig.ec2.requests.length;
    const run = await runBuild(driver, baseOptions(rig, { amiRegions: [OTHER], tags: { A: "b" } }));
    expect(run.result.error).toBeUndefined();
    const seen = rig.ec2.requests.slice(before);
    expect(seen.filter((r) => r.error === "RequestLimitExceeded").length).toBe(14);
    expect(seen.filter((r) => r.error === "InvalidAMIID.NotFound").length).toBeGreaterThanOrEqual(3);
    expect(seen.filter((r) => r.error === "InvalidInstanceID.NotFound").length).toBe(2);
    expect(run.log.lines.some((l) => /RequestLimitExceeded, retry 1/.test(l))).toBe(true);
    const data = run.artifact!.data as { region: Record<string, string> };
    expect(rig.ec2.region(OTHER).images.get(data.region[OTHER]!)!.tags.get("A")).toBe("b");
    expectNothingLeft();
  });

  it("gives up with the EC2 error when throttling outlasts maxRetries, and cleans up", async () => {
    rig.ec2.fault({ kind: "throttle", action: "CreateImage", count: 50 });
    const run = await runBuild(driver, baseOptions(rig, { maxRetries: 3 }));
    expect(run.result.outcome).toBe("failed");
    expect(run.result.error!.message).toMatch(/CreateImage in eu-west-1 failed: RequestLimitExceeded/);
    rig.ec2.clearFaults();
    expectNothingLeft();
  });
});

describe("forceDeregister", () => {
  it("refuses an existing AMI name without it, replaces the AMI (and deletes its snapshots) with it", async () => {
    const name = `fixed-name-${Date.now()}`;
    const first = await runBuild(driver, baseOptions(rig, { amiName: name, amiRegions: [OTHER] }));
    expect(first.result.error).toBeUndefined();
    const old = first.artifact!.data as { region: Record<string, string>; snapshots: Record<string, string[]> };

    const refused = await runBuild(driver, baseOptions(rig, { amiName: name, amiRegions: [OTHER] }));
    expect(refused.result.outcome).toBe("failed");
    expect(refused.result.error!.message).toContain(`an AMI named "${name}" already exists in ${REGION}`);
    expectNothingLeft();

    const replaced = await runBuild(driver, baseOptions(rig, { amiName: name, amiRegions: [OTHER], forceDeregister: true, forceDeleteSnapshot: true }));
    expect(replaced.result.error).toBeUndefined();
    const now = replaced.artifact!.data as { region: Record<string, string> };
    for (const region of [REGION, OTHER]) {
      expect(rig.ec2.region(region).images.get(old.region[region]!)!.state).toBe("deregistered");
      for (const snap of old.snapshots[region]!) expect(rig.ec2.region(region).snapshots.has(snap)).toBe(false);
      expect(rig.ec2.ownImages(region).filter((i) => i.name === name).map((i) => i.id)).toEqual([now.region[region]]);
    }
    expectNothingLeft();
  });
});

describe("spot", () => {
  it("builds on a spot instance under the max price (imaged while running: spot cannot stop)", async () => {
    const run = await runBuild(driver, baseOptions(rig, { spot: { maxPrice: "0.05" } }));
    expect(run.result.error).toBeUndefined();
    const inst = rig.ec2.region(REGION).instances.get(run.env.facts.instanceId!)!;
    expect(inst.lifecycle).toBe("spot");
    expect(rig.ec2.region(REGION).spotRequests.get(inst.spotRequestId!)!.maxPrice).toBe("0.05");
    expect(run.log.lines.some((l) => l.includes("spot instance, which cannot be stopped"))).toBe(true);
    expectNothingLeft();
  });

  it("falls back to on-demand when allowed, and fails cleanly when not", async () => {
    const fallback = await runBuild(driver, baseOptions(rig, { spot: { maxPrice: "0.001", fallbackToOnDemand: true } }));
    expect(fallback.result.error).toBeUndefined();
    expect(rig.ec2.region(REGION).instances.get(fallback.env.facts.instanceId!)!.lifecycle).toBeUndefined();
    expect(fallback.log.lines.some((l) => l.includes("SpotMaxPriceTooLow"))).toBe(true);

    rig.ec2.fault({ kind: "no-spot-capacity", count: 1 });
    const capacity = await runBuild(driver, baseOptions(rig, { spot: { fallbackToOnDemand: true } }));
    expect(capacity.result.error).toBeUndefined();

    const strict = await runBuild(driver, baseOptions(rig, { spot: { maxPrice: "0.001" } }));
    expect(strict.result.outcome).toBe("failed");
    expect(strict.result.error!.message).toContain("SpotMaxPriceTooLow");
    expectNothingLeft();
  });
});

describe("chain base → web", () => {
  it("web starts from base's AMI in each region", async () => {
    const base = await runBuild(driver, baseOptions(rig, { amiName: `base-${Date.now()}`, amiRegions: [OTHER] }), { node: nodeFor("amazon-ebs", "base") });
    expect(base.result.error).toBeUndefined();
    const baseAmis = (base.artifact!.data as { region: Record<string, string> }).region;
    const upstream = { "base.amazon-ebs": base.artifact! };
    const webNode = nodeFor("amazon-ebs", "web", { kind: "image", node: "base.amazon-ebs" });
    for (const region of [REGION, OTHER]) {
      const web = await runBuild(driver, baseOptions(rig, { region, sourceAmi: undefined }), { node: webNode, upstream });
      expect(web.result.error).toBeUndefined();
      expect(rig.ec2.region(region).instances.get(web.env.facts.instanceId!)!.imageId).toBe(baseAmis[region]);
      const webAmi = rig.ec2.region(region).images.get(web.artifact!.id)!;
      expect(webAmi.origin).toEqual({ kind: "instance", from: web.env.facts.instanceId });
    }
    const missing = await runBuild(driver, baseOptions(rig, { region: THIRD, sourceAmi: undefined }), { node: webNode, upstream });
    expect(missing.result.error!.message).toContain(`base.amazon-ebs has no AMI in ${THIRD} (it has ${REGION}, ${OTHER}); add ${THIRD} to its amiRegions`);
    expectNothingLeft();
  });

  it("finds the source by owner and name filter, newest first", async () => {
    rig.ec2.seedImage(REGION, { name: "debian-12-amd64-20260301" });
    const newest = rig.ec2.seedImage(REGION, { name: "debian-12-amd64-20260401" });
    rig.ec2.region(REGION).images.get(newest.id)!.creationDate = new Date().toISOString();
    const run = await runBuild(driver, baseOptions(rig, { sourceAmi: undefined, sourceAmiFilter: { owners: ["136693071363"], name: "debian-12-amd64-*", mostRecent: true } }));
    expect(run.result.error).toBeUndefined();
    expect(rig.ec2.region(REGION).instances.get(run.env.facts.instanceId!)!.imageId).toBe(newest.id);
    const ambiguous = await runBuild(driver, baseOptions(rig, { sourceAmi: undefined, sourceAmiFilter: { owners: ["136693071363"], name: "debian-12-amd64-*" } }));
    expect(ambiguous.result.error!.message).toMatch(/matched \d+ AMIs in eu-west-1 .*set mostRecent: true/);
    expectNothingLeft();
  });
});
