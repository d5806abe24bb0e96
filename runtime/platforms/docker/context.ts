/** The typed context the docker driver's steps share (no string-keyed state bag). */
import type { DriverEnv } from "../../types.js";
import type { DockerBackend, ImageInfo } from "./backend.js";
import type { DockerCommunicator } from "./communicator.js";
import type { DockerOptions } from "./factory.js";

/** One docker build's state: what the options asked for and what the steps made so far. */
export interface DockerContext {
  readonly env: DriverEnv;
  readonly backend: DockerBackend;
  /** The resolved platform options. */
  readonly options: DockerOptions;
  /** The image the build container starts from: `options.image`, or the upstream image's id. */
  readonly sourceImage: string;
  /** True when the source is an upstream imgc image (never pulled). */
  readonly fromUpstream: boolean;
  /** The build container's name, chosen before it is created so a cancelled create cannot leak it. */
  readonly containerName: string;
  /** The source image, once inspected or pulled. */
  source?: ImageInfo;
  /** The build container, once created. */
  containerId?: string;
  /** The communicator into the running container. */
  comm?: DockerCommunicator;
  /** The committed image's id. */
  imageId?: string;
  /** The exported tar, once written (absolute). */
  exportFile?: string;
}
