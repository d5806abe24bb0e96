/**
 * Step "connect": waits for the host's SSH server and logs in (host key policy, bastion,
 * keepalives as configured). Its cleanup closes the session whatever the outcome.
 */
import { sshConnectOptions, type ResolvedSshOptions } from "../../../communicators/ssh-options.js";
import type { Step } from "../../../types.js";
import type { NullContext } from "../context.js";

export const connectStep: Step<NullContext> = {
  name: "connect",
  async run(ctx, signal) {
    const { env } = ctx;
    const opts = await sshConnectOptions(ctx.options.ssh as unknown as ResolvedSshOptions, { projectRoot: env.projectRoot, log: env.log, redact: env.redact });
    env.log.log("info", `connecting to ${opts.username}@${opts.host}:${opts.port}${opts.bastion ? ` through ${opts.bastion.host}:${opts.bastion.port}` : ""}`);
    ctx.session = await ctx.backend.connect(opts, signal);
    ctx.target = { host: opts.host, port: opts.port, user: opts.username };
    Object.assign(env.facts, { host: opts.host, port: opts.port, user: opts.username });
    env.log.log("info", `connected; host key ${ctx.session.hostKeyFingerprint ?? "(unknown)"}`);
  },
  async cleanup(ctx) {
    await ctx.session?.close();
  },
};
