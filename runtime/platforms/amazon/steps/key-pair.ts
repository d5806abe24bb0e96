/**
 * The key pair the instance is launched with: a temporary ed25519 key imported as a key pair
 * (deleted on every outcome), or the given `keyPairName` with `ssh.privateKeyFile`, or none
 * when the user brings their own credentials (`privateKeyFile`, `password`, `agent`).
 */
import { readFile } from "node:fs/promises";
import { generateEd25519 } from "../../../communicators/temp-key.js";
import type { Step } from "../../../types.js";
import { info, type AmazonContext } from "../context.js";
import { localFile } from "../settings.js";

/** Imports a temporary key pair, or reads the given one's private key. */
export const keyPairStep: Step<AmazonContext> = {
  name: "key-pair",
  async run(ctx, signal) {
    const o = ctx.settings.options;
    if (o.ssh.privateKeyFile !== undefined) {
      ctx.privateKey = await readFile(localFile(o.ssh.privateKeyFile, ctx.env.projectRoot), "utf8");
      ctx.env.redact(ctx.privateKey);
    }
    if (o.keyPairName) {
      ctx.keyPairName = o.keyPairName;
      return;
    }
    // The user brings their own way in (a key baked into the AMI or set by user data, a
    // password, the agent): no key pair is needed.
    if (ctx.privateKey !== undefined || o.ssh.password !== undefined || o.ssh.agent) return;
    const pair = generateEd25519(ctx.tempName);
    ctx.env.redact(pair.privateKey);
    ctx.privateKey = pair.privateKey;
    ctx.keyPairName = ctx.tempName;
    await ctx.ec2.importKeyPair(ctx.tempName, pair.publicKeyLine, { ...ctx.settings.tags, "imgc:build": ctx.env.resolved.node.id }, signal);
    ctx.keyPairCreated = true;
    ctx.env.log.track({ kind: "key pair", id: ctx.tempName, where: ctx.settings.region });
    info(ctx, `temporary key pair ${ctx.tempName} (${pair.fingerprint})`);
  },
  async cleanup(ctx) {
    if (!ctx.keyPairCreated || !ctx.keyPairName) return;
    await ctx.ec2.deleteKeyPair(ctx.keyPairName, AbortSignal.timeout(ctx.settings.waitMs));
    ctx.env.log.untrack({ kind: "key pair", id: ctx.keyPairName, where: ctx.settings.region });
    ctx.keyPairCreated = false;
  },
};
