/**
 * `forceDeregister`: deregisters AMIs of the same name owned by the account in every target
 * region (and, with `forceDeleteSnapshot`, their snapshots), just before the new AMI is made.
 */
import type { Step } from "../../../types.js";
import { info, type AmazonContext } from "../context.js";
import { deregisterWithSnapshots } from "./images.js";

/** Removes same-named AMIs when forceDeregister is set. */
export const deregisterExistingStep: Step<AmazonContext> = {
  name: "deregister-existing",
  async run(ctx, signal) {
    const o = ctx.settings.options;
    if (!o.forceDeregister) return;
    for (const region of [ctx.settings.region, ...ctx.settings.amiRegions]) {
      const ec2 = ctx.backends.ec2(region);
      for (const old of await ec2.findImages({ owners: ["self"], name: o.amiName }, signal)) {
        await deregisterWithSnapshots(ec2, old.id, signal, o.forceDeleteSnapshot === true);
        info(ctx, `deregistered the existing AMI ${old.id} "${old.name}" in ${region}${o.forceDeleteSnapshot ? ` and its snapshots ${old.snapshotIds.join(", ")}` : ""}`);
      }
    }
  },
};
