/**
 * Launches the build instance (on the spot market when asked, falling back to on-demand when
 * allowed), waits until it runs, and terminates it on every outcome, waiting until it is gone
 * so the security group can be deleted after it.
 */
import type { Step } from "../../../types.js";
import { AwsApiError, type LaunchSpec } from "../backend.js";
import { info, type AmazonContext } from "../context.js";
import { waitFor } from "../wait.js";

/** Spot failures that an on-demand launch can get around. */
const NO_SPOT = new Set(["InsufficientInstanceCapacity", "SpotMaxPriceTooLow", "MaxSpotInstanceCountExceeded", "InsufficientCapacity", "UnfulfillableCapacity"]);

/** The RunInstances input of a build (pure, so tests check it directly). */
export function launchSpec(ctx: AmazonContext, spot: boolean): LaunchSpec {
  const o = ctx.settings.options;
  return {
    imageId: ctx.sourceAmi!,
    instanceType: o.instanceType,
    ...(ctx.keyPairName ? { keyName: ctx.keyPairName } : {}),
    securityGroupIds: ctx.securityGroupIds ?? [],
    ...(o.subnetId ? { subnetId: o.subnetId } : {}),
    ...(o.associatePublicIpAddress !== undefined ? { associatePublicIp: o.associatePublicIpAddress } : {}),
    ...(o.iamInstanceProfile ? { iamInstanceProfile: o.iamInstanceProfile } : {}),
    ...(ctx.settings.userData !== undefined ? { userData: ctx.settings.userData } : {}),
    blockDevices: ctx.settings.launchDevices,
    tags: { Name: `imgc builder ${ctx.env.resolved.node.id}`, ...(o.runTags ?? {}), "imgc:build": ctx.env.resolved.node.id },
    ...(spot ? { spot: o.spot?.maxPrice ? { maxPrice: o.spot.maxPrice } : {} } : {}),
  };
}

/** Launches and waits for `running`. */
export const runInstanceStep: Step<AmazonContext> = {
  name: "run-instance",
  async run(ctx, signal) {
    const o = ctx.settings.options;
    let spot = o.spot !== undefined;
    let launched;
    try {
      launched = await ctx.ec2.runInstance(launchSpec(ctx, spot), signal);
    } catch (e) {
      if (!(spot && o.spot?.fallbackToOnDemand && e instanceof AwsApiError && NO_SPOT.has(e.code))) throw e;
      ctx.env.log.log("warn", `no spot capacity (${e.code}); launching on demand as fallbackToOnDemand allows`);
      spot = false;
      launched = await ctx.ec2.runInstance(launchSpec(ctx, false), signal);
    }
    ctx.instance = launched;
    ctx.spot = spot;
    ctx.env.facts.instanceId = launched.id;
    ctx.env.log.track({ kind: "instance", id: launched.id, where: ctx.settings.region });
    info(ctx, `launched ${spot ? "spot " : ""}instance ${launched.id} from ${ctx.sourceAmi}`);
    await waitFor(
      `instance ${launched.id} reaching running`,
      async () => {
        const i = await ctx.ec2.describeInstance(launched.id, signal);
        if (i) ctx.instance = i;
        const state = i?.state ?? "not visible yet";
        return { done: state === "running", state, ...(state === "terminated" || state === "shutting-down" ? { failure: `it is ${state} (spot interruption or a bad AMI?)` } : {}) };
      },
      { pollMs: ctx.settings.pollMs, timeoutMs: ctx.settings.waitMs, signal },
    );
  },
  async cleanup(ctx) {
    const inst = ctx.instance;
    if (!inst) return;
    const signal = AbortSignal.timeout(ctx.settings.waitMs + 60_000);
    await ctx.ec2.terminateInstance(inst.id, signal);
    if (inst.spotRequestId) await ctx.ec2.cancelSpotRequest(inst.spotRequestId, signal);
    await waitFor(
      `instance ${inst.id} terminating`,
      async () => {
        const i = await ctx.ec2.describeInstance(inst.id, signal);
        return { done: !i || i.state === "terminated", state: i?.state ?? "gone" };
      },
      { pollMs: ctx.settings.pollMs, timeoutMs: ctx.settings.waitMs, signal },
    );
    ctx.env.log.untrack({ kind: "instance", id: inst.id, where: ctx.settings.region });
    info(ctx, `terminated instance ${inst.id}`);
    ctx.instance = undefined;
  },
};
