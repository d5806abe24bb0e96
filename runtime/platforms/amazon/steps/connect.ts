/**
 * Connects to the build instance over SSH (its public or private address, optionally through a
 * bastion) and keeps the communicator the provisioners use; closes it on every outcome.
 */
import { readFile } from "node:fs/promises";
import { parseDuration, type Duration } from "../../../../lang/duration.js";
import { SshCommunicator, type SshConnectOptions } from "../../../communicators/ssh.js";
import type { Step } from "../../../types.js";
import type { InstanceInfo } from "../backend.js";
import { info, type AmazonContext } from "../context.js";
import { localFile } from "../settings.js";

/** The address to connect to, per `ssh.host` or `sshInterface`. */
export function instanceAddress(ctx: AmazonContext, inst: InstanceInfo): string {
  const o = ctx.settings.options;
  if (o.ssh.host) return o.ssh.host;
  const pick = o.sshInterface ?? (inst.publicIp ? "public_ip" : "private_ip");
  const address = { public_ip: inst.publicIp, private_ip: inst.privateIp, public_dns: inst.publicDns, private_dns: inst.privateDns }[pick];
  if (!address) throw new Error(`instance ${inst.id} has no ${pick.replace("_", " ")} (sshInterface "${pick}"); set associatePublicIpAddress: true, or use a bastion with sshInterface "private_ip"`);
  return address;
}

/** Opens the SSH session. */
export const connectStep: Step<AmazonContext> = {
  name: "connect",
  async run(ctx, signal) {
    const o = ctx.settings.options;
    const ssh = o.ssh;
    const host = instanceAddress(ctx, ctx.instance!);
    const agent = ssh.agent ? process.env.SSH_AUTH_SOCK : undefined;
    if (ssh.agent && !agent) throw new Error("ssh.agent is set but SSH_AUTH_SOCK is not: start an SSH agent or give ssh.privateKeyFile");
    let bastion: SshConnectOptions["bastion"];
    if (ssh.bastion) {
      const b = ssh.bastion;
      const bastionKey = b.privateKeyFile !== undefined ? await readFile(localFile(b.privateKeyFile, ctx.env.projectRoot), "utf8") : undefined;
      if (bastionKey) ctx.env.redact(bastionKey);
      bastion = {
        host: b.host,
        port: b.port ?? 22,
        username: b.username,
        ...(b.password !== undefined ? { password: b.password } : {}),
        ...(bastionKey !== undefined ? { privateKey: bastionKey } : {}),
        ...(b.agent ? { agent: process.env.SSH_AUTH_SOCK } : {}),
      };
    }
    const options: SshConnectOptions = {
      host,
      port: ctx.settings.sshPort,
      username: ssh.username,
      ...(ssh.password !== undefined ? { password: ssh.password } : {}),
      ...(ctx.privateKey !== undefined ? { privateKey: ctx.privateKey } : {}),
      ...(agent ? { agent } : {}),
      hostKey: ssh.hostKey ?? "accept-new",
      timeoutMs: parseDuration((ssh.timeout ?? "5m") as Duration),
      keepaliveIntervalMs: parseDuration((ssh.keepaliveInterval ?? "5s") as Duration),
      sftpConcurrency: ssh.sftpConcurrency ?? 64,
      ...(bastion ? { bastion } : {}),
      log: (level, message) => ctx.env.log.log(level, message),
    };
    const comm = new SshCommunicator(options);
    ctx.comm = comm;
    await comm.connect(signal);
    ctx.env.facts.host = host;
    ctx.env.facts.port = ctx.settings.sshPort;
    ctx.env.facts.user = ssh.username;
    info(ctx, `connected to ${ssh.username}@${host}:${ctx.settings.sshPort}${bastion ? ` through ${bastion.host}` : ""}`);
  },
  async cleanup(ctx) {
    await ctx.comm?.close();
  },
};
