/**
 * The null platform's artifact: the record that this host was provisioned with this
 * configuration. Nothing is created, so there are no files; the data says which host (and,
 * by its host key, which installation of it) it was.
 */
import type { ArtifactRecord } from "../../types.js";
import type { NullContext } from "./context.js";

/** What a null artifact records. */
export interface NullArtifactData {
  [key: string]: string | number | null;
  /** The host address. */
  host: string;
  /** The SSH port. */
  port: number;
  /** The user provisioning ran as. */
  user: string;
  /** The host key fingerprint seen while provisioning (`SHA256:…`). */
  hostKeyFingerprint: string | null;
}

/** The artifact of a finished build. */
export function nullArtifact(ctx: NullContext): ArtifactRecord<NullArtifactData> {
  const t = ctx.target;
  if (!t) throw new Error(`${ctx.env.resolved.node.id}: no artifact: the host was never connected`);
  const label = ctx.options.label as string | undefined;
  return {
    node: ctx.env.resolved.node.id,
    platform: "null",
    id: label ?? `${t.user}@${t.host}:${t.port}`,
    files: [],
    data: { host: t.host, port: t.port, user: t.user, hostKeyFingerprint: ctx.session?.hostKeyFingerprint ?? null },
  };
}

/** Reads a state record back as null artifact data (tolerating older records). */
export function nullArtifactData(a: ArtifactRecord): Partial<NullArtifactData> {
  const d = (a.data ?? {}) as Record<string, unknown>;
  return {
    ...(typeof d.host === "string" ? { host: d.host } : {}),
    ...(typeof d.port === "number" ? { port: d.port } : {}),
    ...(typeof d.user === "string" ? { user: d.user } : {}),
    hostKeyFingerprint: typeof d.hostKeyFingerprint === "string" ? d.hostKeyFingerprint : null,
  };
}
