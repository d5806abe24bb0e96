/**
 * Provisioner specs: plain data describing one step that runs inside (or beside) the machine
 * being built. The runtime maps `type` to its implementation.
 */
import { IMGC, isKind } from "./brand.js";
import type { SourceSite } from "./site.js";

/** Options every provisioner accepts. */
export interface CommonProvisionerOptions {
  /** Run only on these platforms (node name suffixes, e.g. `["docker"]`). */
  readonly only?: readonly string[];
  /** Skip on these platforms. */
  readonly except?: readonly string[];
}

/** One provisioning step, as data. */
export interface ProvisionerSpec<K extends string = string, O = unknown> {
  readonly [IMGC]: "provisioner";
  /** The provisioner type: `shell`, `file`, `shell-local`, `breakpoint`, or a plugin's. */
  readonly type: K;
  /** Its options (may hold lazy values and local paths). */
  readonly options: O;
  /** Platforms it runs on; all when absent. */
  readonly only?: readonly string[];
  /** Platforms it is skipped on. */
  readonly except?: readonly string[];
  /** Marks Packer's error-cleanup provisioner: run only on failure with `--on-error=run-cleanup-provisioner`. */
  readonly errorCleanup?: boolean;
  /** Where the user wrote it. */
  readonly site: SourceSite;
}

/**
 * What `provision: [...]` accepts: provisioners, and (nested) arrays of them, which is what a
 * component returns. `false`, `null` and `undefined` are dropped, so `cond && step` works.
 */
export type ProvisionInput = ProvisionerSpec | readonly ProvisionInput[] | false | null | undefined;

/** Makes a provisioner spec, taking `only`/`except` out of the options. */
export function makeProvisioner<K extends string, O extends CommonProvisionerOptions>(
  type: K,
  options: O,
  site: SourceSite,
): ProvisionerSpec<K, Omit<O, "only" | "except">> {
  const { only, except, ...rest } = options;
  return Object.freeze({
    [IMGC]: "provisioner" as const,
    type,
    options: rest,
    ...(only ? { only } : {}),
    ...(except ? { except } : {}),
    site,
  });
}

/** True when `x` is a provisioner spec (from any copy of imgc). */
export function isProvisioner(x: unknown): x is ProvisionerSpec {
  return isKind(x, "provisioner");
}

/** Flattens component output into a list of provisioners, dropping falsy entries. */
export function flattenProvision(input: readonly ProvisionInput[]): ProvisionerSpec[] {
  const out: ProvisionerSpec[] = [];
  const walk = (item: ProvisionInput): void => {
    if (item === false || item === null || item === undefined) return;
    if (Array.isArray(item)) (item as readonly ProvisionInput[]).forEach(walk);
    else out.push(item as ProvisionerSpec);
  };
  input.forEach(walk);
  return out;
}
