/**
 * The Amazon EC2 drivers: `amazon-ebs` (this module's default export) and `amazon-instance`
 * (`instance/driver.ts`), one step list each, built from the options like Packer's builders.
 */
import { PROVISION, type ArtifactEnv, type ArtifactRecord, type DriverEnv, type PlatformDriver, type Step } from "../../types.js";
import { artifactExists, artifactOf, destroyArtifact } from "./artifact.js";
import { SdkBackends } from "./backend-sdk.js";
import { temporaryName, type AmazonContext } from "./context.js";
import type { RetryPolicy } from "./retry.js";
import { settingsFrom, type AmazonSettings, type AmazonType, type ResolvedAmazonOptions } from "./settings.js";
import { bundleVolumeStep, registerImageStep, uploadBundleStep, uploadX509Step } from "./steps/bundle.js";
import { connectStep } from "./steps/connect.js";
import { copyRegionsStep } from "./steps/copy-regions.js";
import { createImageStep } from "./steps/create-image.js";
import { deregisterExistingStep } from "./steps/deregister-existing.js";
import { encryptBootStep } from "./steps/encrypt-boot.js";
import { keyPairStep } from "./steps/key-pair.js";
import { runInstanceStep } from "./steps/run-instance.js";
import { securityGroupStep } from "./steps/security-group.js";
import { checkAmiNameStep, sourceAmiStep } from "./steps/source-ami.js";
import { stopInstanceStep } from "./steps/stop-instance.js";
import { finishStep, shareStep, tagStep } from "./steps/tag-and-share.js";

/** The driver version; equals the factory's. */
const VERSION = 1;

function retryPolicy(settings: Pick<AmazonSettings, "maxRetries" | "pollMs">, log?: (m: string) => void): RetryPolicy {
  return {
    attempts: settings.maxRetries,
    // Backoff starts at the poll interval (at most 1 s) and doubles up to 20 s.
    baseDelayMs: Math.min(1000, Math.max(10, settings.pollMs)),
    maxDelayMs: 20_000,
    ...(log ? { onRetry: (what: string, code: string, attempt: number, delay: number) => log(`${what}: ${code}, retry ${attempt} in ${delay} ms`) } : {}),
  };
}

/** Closes the SDK clients after everything else: the first step, whose cleanup runs last. */
const clientsStep: Step<AmazonContext> = {
  name: "aws-clients",
  async run() {},
  async cleanup(ctx) {
    (ctx.backends as SdkBackends).destroy?.();
  },
};

/** The step list of a build (pure: tests check it). */
export function stepsFor(ctx: AmazonContext): (Step<AmazonContext> | typeof PROVISION)[] {
  const o = ctx.settings.options;
  const launch = [clientsStep, sourceAmiStep, checkAmiNameStep, keyPairStep, securityGroupStep, runInstanceStep, connectStep, PROVISION] as const;
  const finish = [...(ctx.settings.amiRegions.length ? [copyRegionsStep] : []), tagStep, shareStep, finishStep];
  if (ctx.settings.type === "amazon-instance") {
    return [...launch, uploadX509Step, bundleVolumeStep, uploadBundleStep, deregisterExistingStep, registerImageStep, ...finish];
  }
  return [...launch, stopInstanceStep, deregisterExistingStep, createImageStep, ...(o.encryptBoot ? [encryptBootStep] : []), ...finish];
}

/** Backends for `exists`/`destroy`, from the node's current options when it is still defined. */
function backendsFor(type: AmazonType, env: ArtifactEnv<ResolvedAmazonOptions>): SdkBackends {
  const o = env.options;
  const settings = o ? settingsFrom(type, o, env.projectRoot) : undefined;
  return new SdkBackends({ ...(settings?.access ?? {}), retry: retryPolicy(settings ?? { maxRetries: 8, pollMs: 1000 }) });
}

/** Makes the driver of one Amazon platform type. */
export function amazonDriver(type: AmazonType): PlatformDriver<ResolvedAmazonOptions, AmazonContext> {
  return {
    type,
    version: VERSION,
    async preflight(env: DriverEnv, signal: AbortSignal) {
      const ctx = this.createContext(env) as AmazonContext;
      try {
        const who = await ctx.ec2.callerIdentity(signal);
        env.log.log("info", `AWS credentials of ${who.arn}`);
      } finally {
        (ctx.backends as SdkBackends).destroy();
      }
    },
    createContext(env: DriverEnv): AmazonContext {
      const settings = settingsFrom(type, env.resolved.options, env.projectRoot);
      for (const secret of [settings.access.accessKey, settings.access.secretKey, settings.access.sessionToken, settings.options.ssh.password]) if (secret) env.redact(secret);
      const backends = new SdkBackends({ ...settings.access, retry: retryPolicy(settings, (m) => env.log.log("debug", m)) });
      return { env, settings, backends, ec2: backends.ec2(settings.region), tempName: temporaryName(env.resolved.node.id), amis: {}, snapshots: {} };
    },
    steps: stepsFor,
    communicator: (ctx) => ctx.comm,
    artifact: artifactOf,
    async exists(artifact: ArtifactRecord, env: ArtifactEnv<ResolvedAmazonOptions>, signal: AbortSignal) {
      const backends = backendsFor(type, env);
      try {
        return await artifactExists(artifact, backends, signal);
      } finally {
        backends.destroy();
      }
    },
    async destroy(artifact: ArtifactRecord, env: ArtifactEnv<ResolvedAmazonOptions>, signal: AbortSignal) {
      const backends = backendsFor(type, env);
      try {
        await destroyArtifact(artifact, backends, signal, (m) => env.log.log("info", m));
      } finally {
        backends.destroy();
      }
    },
  };
}

/** The `amazon-ebs` driver. */
export default amazonDriver("amazon-ebs");
