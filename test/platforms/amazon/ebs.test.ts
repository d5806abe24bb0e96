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
