/**
 * The `null` platform factory (`imgc/platforms/null`): runs provisioners on an existing host over
 * SSH and records it as the artifact, like Packer's null builder. Imports nothing from `runtime/`.
 */
import { z } from "zod";
import { sshOptionsSchema, type SshOptions } from "../../../lang/communicator.js";
import { definePlatform, type Input } from "../../../lang/index.js";
import { input } from "../../../lang/schema.js";

/** Options of `nullHost()`: the host to provision and how to reach it. */
export interface NullOptions {
  /** SSH connection to the existing host; `ssh.host` is required. */
  readonly ssh: SshOptions & { readonly host: Input<string> };
  /** A name for the artifact (shown in plan and the manifest). @default the host address */
  readonly label?: Input<string>;
}

/** Runtime check of null options. */
export const nullOptionsSchema = z.strictObject({
  ssh: sshOptionsSchema.extend({ host: input(z.string()) }),
  label: input(z.string()).optional(),
});

/**
 * Provision an existing machine over SSH: `nullHost({ ssh: { host: "10.0.0.5", username: "admin" } })`.
 * Named `nullHost` because `null` is a reserved word; the platform type is `null`.
 */
export const nullHost = definePlatform<"null", NullOptions>({
  type: "null",
  driver: "imgc/drivers/null",
  version: 1,
  schema: nullOptionsSchema,
  artifactFields: ["id", "host"],
});
