/**
 * Finds the AMI the build instance starts from: `sourceAmi`, the newest (or only) match of
 * `sourceAmiFilter`, or, for an image with `from`, the upstream artifact's AMI in this region.
 */
import type { Step } from "../../../types.js";
import type { AmiInfo } from "../backend.js";
import { info, type AmazonContext } from "../context.js";

/** The upstream AMI of this region, from the upstream artifact's `region` map. */
function upstreamAmi(ctx: AmazonContext): string | undefined {
  const source = ctx.env.resolved.node.source;
  if (source.kind !== "image") return undefined;
  const artifact = ctx.env.resolved.upstream[source.node];
  if (!artifact) throw new Error(`the upstream build ${source.node} has no artifact; build it first`);
  const regions = (artifact.data as { region?: Record<string, string> } | null)?.region ?? {};
  const ami = regions[ctx.settings.region];
  if (!ami) {
    throw new Error(`${source.node} has no AMI in ${ctx.settings.region} (it has ${Object.keys(regions).join(", ") || "none"}); add ${ctx.settings.region} to its amiRegions`);
  }
  return ami;
}

function newest(images: AmiInfo[]): AmiInfo | undefined {
  return [...images].sort((a, b) => (b.creationDate ?? "").localeCompare(a.creationDate ?? ""))[0];
}

/** Resolves and checks the source AMI. */
export const sourceAmiStep: Step<AmazonContext> = {
  name: "source-ami",
  async run(ctx, signal) {
    const o = ctx.settings.options;
    const fromUpstream = upstreamAmi(ctx);
    if (fromUpstream) {
      ctx.sourceAmi = fromUpstream;
    } else if (o.sourceAmi) {
      ctx.sourceAmi = o.sourceAmi;
    } else if (o.sourceAmiFilter) {
      const f = o.sourceAmiFilter;
      const filters = Object.fromEntries(Object.entries(f.filters ?? {}).map(([k, v]) => [k, typeof v === "string" ? [v] : [...v]]));
      const found = (await ctx.ec2.findImages({ owners: f.owners, ...(f.name ? { name: f.name } : {}), filters }, signal)).filter((i) => i.state === "available");
      const what = `owners ${f.owners.join(", ")}${f.name ? `, name "${f.name}"` : ""}`;
      if (found.length === 0) throw new Error(`sourceAmiFilter matched no available AMI in ${ctx.settings.region} (${what})`);
      if (found.length > 1 && !f.mostRecent) {
        throw new Error(`sourceAmiFilter matched ${found.length} AMIs in ${ctx.settings.region} (${what}); narrow it or set mostRecent: true`);
      }
      ctx.sourceAmi = newest(found)!.id;
    } else {
      throw new Error(`${ctx.env.resolved.node.id}: set sourceAmi or sourceAmiFilter, or build from another image with from:`);
    }
    const ami = await ctx.ec2.describeImage(ctx.sourceAmi, signal);
    if (!ami) throw new Error(`the source AMI ${ctx.sourceAmi} does not exist in ${ctx.settings.region} (or you may not launch it)`);
    if (ami.state !== "available") throw new Error(`the source AMI ${ctx.sourceAmi} is ${ami.state}, not available`);
    if (ctx.settings.type === "amazon-ebs" && ami.rootDeviceType !== "ebs") throw new Error(`the source AMI ${ctx.sourceAmi} is ${ami.rootDeviceType}-backed; amazon.ebs needs an EBS-backed one`);
    info(ctx, `source AMI ${ctx.sourceAmi} (${ami.name})`);
  },
};

/** Stops early when the AMI name is taken in a target region and forceDeregister is off. */
export const checkAmiNameStep: Step<AmazonContext> = {
  name: "check-ami-name",
  async run(ctx, signal) {
    if (ctx.settings.options.forceDeregister) return;
    for (const region of [ctx.settings.region, ...ctx.settings.amiRegions]) {
      const taken = await ctx.backends.ec2(region).findImages({ owners: ["self"], name: ctx.settings.options.amiName }, signal);
      const live = taken.filter((i) => i.state !== "deregistered");
      if (live.length) {
        throw new Error(`an AMI named "${ctx.settings.options.amiName}" already exists in ${region} (${live.map((i) => i.id).join(", ")}); set forceDeregister: true to replace it, or change amiName`);
      }
    }
  },
};
