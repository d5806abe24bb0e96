/** The docker artifact: what a build leaves, as a plain record for the state. */
import type { ArtifactRecord } from "../../types.js";
import type { DockerContext } from "./context.js";

/** Per-artifact data kept in the state. */
export type DockerArtifactData = {
  /** How the build ended: an image (commit) or a filesystem tar (export). */
  readonly mode: "commit" | "export";
  /** The committed image id (commit mode). */
  readonly imageId?: string;
  /** `repo:tag` names given by post-processors (docker-tag) — appended by them. */
  readonly repoTags: string[];
  /** The export tar (export mode). */
  readonly exportPath?: string;
  /** The source image reference or id the build started from. */
  readonly sourceImage: string;
  /** The source image's id. */
  readonly sourceId?: string;
};

/** The record for a finished build; `undefined` for discard (no artifact). */
export function dockerArtifact(ctx: DockerContext): ArtifactRecord<DockerArtifactData> | undefined {
  const base = { node: ctx.env.resolved.node.id, platform: "docker", sourceImage: ctx.sourceImage, sourceId: ctx.source?.id };
  if (ctx.imageId) {
    return {
      node: base.node,
      platform: base.platform,
      id: ctx.imageId,
      files: [],
      data: { mode: "commit", imageId: ctx.imageId, repoTags: [], sourceImage: base.sourceImage, ...(base.sourceId ? { sourceId: base.sourceId } : {}) },
    };
  }
  if (ctx.exportFile) {
    return {
      node: base.node,
      platform: base.platform,
      id: ctx.exportFile,
      files: [ctx.exportFile],
      data: { mode: "export", exportPath: ctx.exportFile, repoTags: [], sourceImage: base.sourceImage, ...(base.sourceId ? { sourceId: base.sourceId } : {}) },
    };
  }
  return undefined;
}

/** True when the artifact is an image (commit mode), as opposed to an export tar. */
export function isImageArtifact(a: ArtifactRecord): boolean {
  return (a.data as Partial<DockerArtifactData> | null)?.mode !== "export";
}
