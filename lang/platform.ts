/**
 * The platform registry. Built-in platforms and third-party plugins (npm packages) define their
 * factory the same way, with `definePlatform`: the factory returns a serialisable spec naming
 * the platform type and the module that implements its driver. Nothing here loads a driver.
 */
import { IMGC, isKind } from "./brand.js";
import { localPath, type PathLike } from "./path.js";
import { captureSite, type SourceSite } from "./site.js";

/**
 * A zod schema of a platform's options (`z.object(...)`, `z.strictObject(...)`), as the
 * definition sees it. Declared structurally rather than as `z.ZodType` on purpose: checking a
 * project's `z.strictObject({...})` against zod's generic `ZodType` made the TypeScript checker
 * build ~30,000 types per `definePlatform` call, most of `imgc validate`'s time on a small project.
 */
export interface OptionsSchema {
  /** zod's non-throwing parse; the compiler reads its `success` and `error.issues`. */
  safeParse(data: unknown): unknown;
}

/** Options every platform accepts. */
export interface CommonPlatformOptions {
  /**
   * The node's name suffix: `web.<name>`. Needed when one image has two platforms of the same
   * type (e.g. two docker builds).
   * @default the platform type, e.g. `docker` or `amazon-ebs`
   */
  readonly name?: string;
}

/** What a platform factory returns: plain data the compiler turns into graph nodes. */
export interface PlatformSpec<K extends string = string, O = unknown> {
  readonly [IMGC]: "platform";
  /** The platform type, e.g. `docker`, `amazon-ebs`. */
  readonly type: K;
  /** The node name suffix (defaults to `type`). */
  readonly name: string;
  /** Module specifier of the driver, resolved from the file that defined the factory's package. */
  readonly driver: string;
  /** Bumped by the driver's authors to invalidate cache keys made by older versions. */
  readonly driverVersion: number;
  /** The options as the user wrote them (may hold lazy values). */
  readonly options: O;
  /** Where the user called the factory. */
  readonly site: SourceSite;
}

/** How a platform is defined: shared by built-ins and plugins. */
export interface PlatformDefinition<K extends string, O> {
  /** The platform type, unique across the registry, e.g. `docker` or `acme-cloud`. */
  readonly type: K;
  /**
   * Module specifier of the driver module (its default export is a `PlatformDriver`), e.g.
   * `imgc/drivers/docker` or `imgc-plugin-acme/driver`. The runtime imports it only at apply.
   */
  readonly driver: string;
  /** Driver schema version; bump to rebuild images made by older drivers. @default 1 */
  readonly version?: number;
  /**
   * A zod schema of the options, used to report unknown or mistyped options (for users who
   * write plain JavaScript, or who silence the type checker). Checked by the compiler.
   */
  readonly schema?: OptionsSchema;
  /** The artifact fields templates may reference with `image.artifact(platform).get(field)`. */
  readonly artifactFields?: readonly string[];
  /**
   * Options that hold local paths (a string or file URL, or a list of them), as dotted names
   * (`"httpDirectory"`, `"ssh.privateKeyFile"`). The factory records them as `LocalPath`s
   * relative to the file that called it, so the compiler can digest their content into the
   * cache key and the driver finds them wherever imgc runs from. Strings with a URL scheme
   * (`https://…`) are left as they are.
   */
  readonly pathOptions?: readonly string[];
}

function isPathLike(x: unknown): x is PathLike {
  return typeof x === "string" || x instanceof URL;
}

/** Records the path options of `options` as `LocalPath`s written at `site`. */
function recordPaths(options: Record<string, unknown>, names: readonly string[], site: SourceSite): Record<string, unknown> {
  const out = { ...options };
  for (const name of names) {
    const [head, ...rest] = name.split(".");
    const value = out[head!];
    if (value === undefined) continue;
    if (rest.length > 0) {
      if (value && typeof value === "object" && !Array.isArray(value) && !(value instanceof URL)) {
        out[head!] = recordPaths(value as Record<string, unknown>, [rest.join(".")], site);
      }
      continue;
    }
    const one = (v: unknown) => (isPathLike(v) && !(typeof v === "string" && /^[a-z][a-z0-9+.-]*:\/\//i.test(v)) ? localPath(v, site) : v);
    out[head!] = Array.isArray(value) ? value.map(one) : one(value);
  }
  return out;
}

/** A platform factory: the function users call in `platforms: [...]`. */
export type PlatformFactory<K extends string, O> = ((options: O & CommonPlatformOptions) => PlatformSpec<K, O>) & {
  /** The platform type this factory makes. */
  readonly type: K;
};

/** Every platform defined in this process, by type (shared across copies of imgc). */
export function platformRegistry(): Map<string, PlatformDefinition<string, unknown>> {
  const key = Symbol.for("imgc.platforms");
  const g = globalThis as Record<symbol, Map<string, PlatformDefinition<string, unknown>>>;
  return (g[key] ??= new Map());
}

/** Defines a platform and returns the factory users call. */
export function definePlatform<K extends string, O>(definition: PlatformDefinition<K, O>): PlatformFactory<K, O> {
  platformRegistry().set(definition.type, definition as PlatformDefinition<string, unknown>);
  const factory = (options: O & CommonPlatformOptions): PlatformSpec<K, O> => {
    const site = captureSite();
    const { name, ...given } = (options ?? {}) as CommonPlatformOptions & Record<string, unknown>;
    const rest = definition.pathOptions ? recordPaths(given, definition.pathOptions, site) : given;
    return Object.freeze({
      [IMGC]: "platform" as const,
      type: definition.type,
      name: name ?? definition.type,
      driver: definition.driver,
      driverVersion: definition.version ?? 1,
      options: rest as O,
      site,
    });
  };
  return Object.assign(factory, { type: definition.type });
}

/** True when `x` is a platform spec (from any copy of imgc). */
export function isPlatformSpec(x: unknown): x is PlatformSpec {
  return isKind(x, "platform");
}
