/** Options every stdlib component accepts, and the error components throw on bad input. */
import { ImgcError } from "../compiler/diagnostics.js";
import { captureSite } from "../lang/site.js";

/** Options every stdlib component accepts. */
export interface ComponentOptions {
  /**
   * Run the component's commands as root through `sudo -E` (for communicators that log in as
   * an unprivileged user, e.g. SSH as `debian`). Not needed in containers, which run as root.
   * @default false
   * @example packages.install(["nginx"], { sudo: true })
   */
  readonly sudo?: boolean;
  /**
   * Run only on these platforms (node name suffixes).
   * @example cleanup.forImage({ only: ["qemu", "amazon-ebs"] })
   */
  readonly only?: readonly string[];
  /**
   * Skip on these platforms.
   * @example reboot({ except: ["docker"] })
   */
  readonly except?: readonly string[];
}

/**
 * Throws an `ImgcError` (code `IMGC_STDLIB_OPTION`) pointing at the user's line that called the
 * component: `component` is e.g. `users.add`, `message` one sentence.
 */
export function badOption(component: string, message: string, hint?: string): never {
  throw new ImgcError({ code: "IMGC_STDLIB_OPTION", message: `${component}: ${message}`, site: captureSite(), ...(hint ? { hint } : {}) });
}
