/** Step "disconnect": closes the SSH session once provisioning is done. */
import type { Step } from "../../../types.js";
import type { NullContext } from "../context.js";

export const disconnectStep: Step<NullContext> = {
  name: "disconnect",
  async run(ctx) {
    await ctx.session?.close();
  },
};
