/**
 * Nothing leaks: a failure at every EC2 call a build makes, an abort (Ctrl-C) at every step, an
 * instance that never runs, a failing CopyImage and a failing provisioner all leave no
 * instance, key pair, security group, spot request or AMI (asserted on the simulator's state).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import driver, { stepsFor } from "../../../runtime/platforms/amazon/driver.js";
import { baseOptions, OTHER, REGION, runBuild, startRig, THIRD, type Rig } from "./harness.js";

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
  expect(live).toEqual({ instances: [], keyPairs: [], securityGroups: [], spotRequests: [] });
  for (const region of [REGION, OTHER, THIRD]) expect(rig.ec2.ownImages(region).map((i) => `${region} ${i.id} ${i.name} ${i.state}`)).toEqual([]);
}

/** A build that touches every step: encrypted, copied, tagged, shared. */
const fullOptions = () => baseOptions(rig, { amiRegions: [OTHER], encryptBoot: true, tags: { T: "1" }, amiUsers: ["210987654321"], forceDeregister: true });

describe("a failure at each EC2 call", () => {
  it("leaves nothing behind", async () => {
    const before = rig.ec2.requests.length;
    const reference = await runBuild(driver, fullOptions());
    expect(reference.result.error).toBeUndefined();
    await driver.destroy!(reference.artifact!, { projectRoot: "/", log: reference.log, options: fullOptions() } as never, AbortSignal.timeout(10_000));
    // The calls the steps make (cleanups come after the last run call, "CreateTags"/"ModifyImageAttribute").
    const calls = rig.ec2.requests.slice(before).map((r) => r.action);
    const runCalls = [...new Set(calls.slice(0, calls.lastIndexOf("ModifyImageAttribute") + 1))];
    expect(runCalls).toEqual(expect.arrayContaining(["DescribeImages", "ImportKeyPair", "CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "RunInstances", "DescribeInstances", "StopInstances", "CreateImage", "CopyImage", "DeregisterImage", "CreateTags", "ModifyImageAttribute"]));
    for (const action of runCalls) {
      rig.ec2.fault({ kind: "fail", action, code: "UnauthorizedOperation", message: `injected: not allowed to ${action}`, status: 403 });
      const run = await runBuild(driver, fullOptions());
      expect(run.result.outcome, action).toBe("failed");
      expect(run.result.error!.message, action).toContain(`${action} in`);
      expect(run.result.cleanupErrors, action).toEqual([]);
      rig.ec2.clearFaults();
      expectNothingLeft();
    }
  }, 600_000);
});

describe("an abort (Ctrl-C) at each step", () => {
  it("leaves nothing behind", async () => {
    const probe = await runBuild(driver, fullOptions(), { signal: AbortSignal.abort() });
    expect(probe.result.outcome).toBe("cancelled");
    const names = stepsFor({ settings: { type: "amazon-ebs", amiRegions: [OTHER], options: { encryptBoot: true } } } as never).map((s) => (typeof s === "symbol" ? "provision" : s.name));
    // Not the last step: an abort after it is too late to cancel anything.
    for (const name of names.slice(0, -1)) {
      const ac = new AbortController();
      const interrupt = () => ac.abort(new Error("SIGINT"));
      // Abort when the step's first EC2 call has taken effect but its answer is not back yet (a
      // call in flight, on any machine's speed); a step that makes no call is interrupted as it
      // ends, so the abort lands before the next step.
      let armed = false;
      rig.ec2.onRequest = () => {
        if (armed) {
          armed = false;
          interrupt();
        }
      };
      const run = await runBuild(driver, fullOptions(), {
        signal: ac.signal,
        onStepStart: (step) => (armed = step === name && name !== "provision"),
        onStepEnd: (step) => {
          if (armed && step === name) {
            armed = false;
            interrupt();
          }
        },
        // At "provision", a provisioner that is interrupted while it runs; otherwise one that is quick.
        provision: async (_comm, signal) => {
          if (name !== "provision") return;
          const stopped = new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
          interrupt();
          await stopped;
        },
      });
      rig.ec2.onRequest = undefined;
      expect(run.result.outcome, `${name}: ${run.result.error?.message}`).toBe("cancelled");
      expect(run.result.cleanupErrors, name).toEqual([]);
      expectNothingLeft();
    }
  }, 600_000);
});

describe("lifecycle faults", () => {
  it("an instance that never reaches running times out and is terminated", async () => {
    rig.ec2.fault({ kind: "instance-never-running", count: 1 });
    const run = await runBuild(driver, baseOptions(rig, { waitTimeout: "1s" }));
    expect(run.result.error!.message).toMatch(/instance i-\w+ reaching running did not happen within 1s \(still pending\)/);
    expectNothingLeft();
  });

  it("a failing CopyImage fails the build and removes the AMI and every copy", async () => {
    rig.ec2.fault({ kind: "copy-image-fails", region: THIRD, count: 1 });
    const run = await runBuild(driver, baseOptions(rig, { amiRegions: [OTHER, THIRD] }));
    expect(run.result.error!.message).toMatch(/copying the AMI failed in 1 region\(s\): ap-southeast-2: AMI ami-\w+ in ap-southeast-2 becoming available failed: it is failed: Copy failed/);
    expectNothingLeft();
  });

  it("a failing provisioner fails the build and nothing is left", async () => {
    const run = await runBuild(driver, baseOptions(rig), { provision: async () => Promise.reject(new Error("shell provisioner exited 3")) });
    expect(run.result.failedStep).toBe("provision");
    expectNothingLeft();
  });
});
