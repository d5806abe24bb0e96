/**
 * The instance's security groups: the given ones, or a temporary group that admits SSH only
 * from the builder's address (asked of `builderAddressUrl`), deleted on every outcome.
 */
import type { Step } from "../../../types.js";
import { info, type AmazonContext } from "../context.js";

const CHECK_IP = "https://checkip.amazonaws.com";

/** The builder's public address as a CIDR, from a checkip-style URL. */
async function builderCidr(url: string, signal: AbortSignal): Promise<string> {
  let text: string;
  try {
    const res = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(15_000)]) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    text = (await res.text()).trim();
  } catch (e) {
    throw new Error(`cannot learn this machine's public address from ${url} (${(e as Error).message}); set temporarySecurityGroupSourceCidrs, or securityGroupIds`);
  }
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) return `${text}/32`;
  if (/^[0-9a-f:]+$/i.test(text) && text.includes(":")) return `${text}/128`;
  throw new Error(`${url} answered "${text.slice(0, 60)}", not an IP address; set temporarySecurityGroupSourceCidrs`);
}

/** Uses the given groups or makes the temporary one. */
export const securityGroupStep: Step<AmazonContext> = {
  name: "security-group",
  async run(ctx, signal) {
    const o = ctx.settings.options;
    if (o.securityGroupIds?.length) {
      ctx.securityGroupIds = [...o.securityGroupIds];
      return;
    }
    const cidrs = o.temporarySecurityGroupSourceCidrs?.length ? [...o.temporarySecurityGroupSourceCidrs] : [await builderCidr(o.builderAddressUrl ?? CHECK_IP, signal)];
    const vpcId = o.vpcId ?? (o.subnetId ? await ctx.ec2.subnetVpc(o.subnetId, signal) : undefined);
    const id = await ctx.ec2.createSecurityGroup(
      { name: ctx.tempName, description: `imgc temporary group for ${ctx.env.resolved.node.id}`, ...(vpcId ? { vpcId } : {}), tags: { ...ctx.settings.tags, "imgc:build": ctx.env.resolved.node.id } },
      signal,
    );
    ctx.createdSecurityGroup = id;
    ctx.securityGroupIds = [id];
    ctx.env.log.track({ kind: "security group", id, where: ctx.settings.region });
    await ctx.ec2.allowTcp(id, ctx.settings.sshPort, cidrs, signal);
    info(ctx, `temporary security group ${id} admits tcp/${ctx.settings.sshPort} from ${cidrs.join(", ")}`);
  },
  async cleanup(ctx) {
    const id = ctx.createdSecurityGroup;
    if (!id) return;
    await ctx.ec2.deleteSecurityGroup(id, AbortSignal.timeout(ctx.settings.waitMs));
    ctx.env.log.untrack({ kind: "security group", id, where: ctx.settings.region });
    ctx.createdSecurityGroup = undefined;
  },
};
