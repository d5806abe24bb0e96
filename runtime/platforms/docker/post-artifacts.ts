/** Helpers the docker post-processors share: reading an image artifact, deriving new records. */
import type { ArtifactRecord } from "../../types.js";
import type { Json } from "../../../lang/values.js";

/** The image an artifact stands for, with the names post-processors gave it. */
export interface ImageArtifact {
  readonly id: string;
  readonly repoTags: readonly string[];
}

/** The image of `input`; a clear error when it is not one (an export tar, a disk…). */
export function imageArtifactOf(input: ArtifactRecord, post: string): ImageArtifact {
  const data = (input.data ?? {}) as { mode?: string; repoTags?: string[] };
  if (input.platform !== "docker" || data.mode === "export" || !input.id.startsWith("sha256:")) {
    throw new Error(`${post} needs a docker image artifact (docker({ commit: true }) or dockerImport), but ${input.node} produced ${input.id}`);
  }
  return { id: input.id, repoTags: data.repoTags ?? [] };
}

/** `input` with some data fields replaced. */
export function withData(input: ArtifactRecord, data: Record<string, Json>): ArtifactRecord {
  return { ...input, data: { ...(input.data as Record<string, Json>), ...data } };
}
