/** Image reference parsing (`registry:5000/repo/name:tag@sha256:…`), pure. */

/** The parts of an image reference. */
export interface ReferenceParts {
  /** Everything before the tag: `[registry[:port]/]path`. */
  readonly repo: string;
  /** The tag, when given. */
  readonly tag?: string;
  /** The `sha256:…` digest, when given. */
  readonly digest?: string;
}

/** Splits a reference into repository, tag and digest (a `:` after the last `/` starts the tag). */
export function splitReference(ref: string): ReferenceParts {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) return { repo: rest.slice(0, colon), tag: rest.slice(colon + 1), ...(digest ? { digest } : {}) };
  return { repo: rest, ...(digest ? { digest } : {}) };
}

/** The registry host of a reference (`registry:5000`), or `docker.io` for Docker Hub names. */
export function registryOf(ref: string): string {
  const first = splitReference(ref).repo.split("/")[0]!;
  const isHost = ref.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  return isHost ? first : "docker.io";
}
