/**
 * `image()`: the unit users declare. An image has platforms (one build node each), may start
 * from another image's artifact (`from`, per platform), and lists provisioners and
 * post-processors.
 */
import { IMGC, isKind } from "./brand.js";
import type { PlatformSpec } from "./platform.js";
import { flattenPost, type PostInput, type PostProcessorSpec } from "./post-processor.js";
import { flattenProvision, type ProvisionInput, type ProvisionerSpec } from "./provisioner.js";
import { captureSite, type SourceSite } from "./site.js";
import { makeRef, type Ref } from "./values.js";

/** A reference to one platform's artifact of an image; its fields stay lazy until the runtime resolves them. */
export interface ArtifactRef {
  /** The artifact id: a Docker image id, an AMI id, a disk path… */
  readonly id: Ref<string>;
  /** Another field of the artifact's data, e.g. `get("region.us-east-1")` for an AMI copy. */
  get(field: string): Ref<string>;
}

/** Options of `image()`. */
export interface ImageSpec<P extends string> {
  /**
   * Where the image is built: one build node per platform, named `<image>.<platform name>`.
   * With `from`, it may be omitted: the image is then built on every platform of its upstream.
   */
  readonly platforms?: readonly PlatformSpec<P>[];
  /**
   * Build on this image's artifact, per platform (web.docker starts from base.docker's image).
   * Every platform of this image must exist on the upstream.
   */
  readonly from?: Image<string, P>;
  /** Images that must be built first although nothing of theirs is used (ordering only). */
  readonly dependsOn?: readonly Image<string, string>[];
  /** Provisioners, run in order; components (functions returning provisioners) nest freely. */
  readonly provision?: readonly ProvisionInput[];
  /** Post-processors, run in order on each platform's artifact. */
  readonly post?: readonly PostInput[];
  /** A sentence shown by `imgc plan` and `imgc graph`. */
  readonly description?: string;
}

/** A declared image. `P` is the union of its platform types, so `artifact()` is checked. */
export interface Image<N extends string = string, P extends string = string> {
  readonly [IMGC]: "image";
  /** The image name, unique in the project. */
  readonly name: N;
  /** Its platforms (empty when inherited from `from`). */
  readonly platforms: readonly PlatformSpec<P>[];
  /** Its upstream image, if any. */
  readonly from?: Image<string, string>;
  /** Images that must be built first. */
  readonly dependsOn: readonly Image<string, string>[];
  /** Provisioners, flattened. */
  readonly provision: readonly ProvisionerSpec[];
  /** Post-processors, flattened. */
  readonly post: readonly PostProcessorSpec[];
  /** Shown by plan and graph. */
  readonly description?: string;
  /** Where it was declared. */
  readonly site: SourceSite;
  /** A lazy reference to this image's artifact on one platform (by platform name). */
  artifact(platform: P | (string & {})): ArtifactRef;
}

const NAME = /^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$/i;

/** Declares an image. */
export function image<N extends string, P extends string>(name: N, spec: ImageSpec<P>): Image<N, P> {
  const site = captureSite();
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new TypeError(`image name ${JSON.stringify(name)} is not valid: use letters, digits, "-" and "_"`);
  }
  const img: Image<N, P> = {
    [IMGC]: "image",
    name,
    platforms: [...(spec.platforms ?? [])],
    ...(spec.from ? { from: spec.from } : {}),
    dependsOn: [...(spec.dependsOn ?? [])],
    provision: flattenProvision(spec.provision ?? []),
    post: flattenPost(spec.post ?? []),
    ...(spec.description ? { description: spec.description } : {}),
    site,
    artifact(platform: string): ArtifactRef {
      const refSite = captureSite();
      return {
        id: makeRef({ kind: "artifact", image: name, platform, field: "id" }, refSite),
        get: (field: string) => makeRef({ kind: "artifact", image: name, platform, field: `data.${field}` }, captureSite()),
      };
    },
  };
  return Object.freeze(img);
}

/** True when `x` is an image (from any copy of imgc). */
export function isImage(x: unknown): x is Image {
  return isKind(x, "image");
}
