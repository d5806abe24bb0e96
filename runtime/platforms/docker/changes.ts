/** `changes` (structured or raw lines) → Dockerfile instructions for `commit`, pure. */
import type { ImageConfig } from "./backend.js";
import type { DockerChanges } from "./factory.js";

/** Resolved structured changes: lazy values already strings. */
type Resolved = { readonly [K in keyof DockerChanges]?: DockerChanges[K] extends Readonly<Record<string, unknown>> | undefined ? Readonly<Record<string, string>> : DockerChanges[K] };

const q = (s: string): string => JSON.stringify(s);
const form = (v: readonly string[] | string): string => (typeof v === "string" ? v : JSON.stringify(v));

/** Dockerfile lines for structured changes, in a fixed order. */
export function changeLines(changes: Resolved | readonly string[] | undefined): string[] {
  if (!changes) return [];
  if (Array.isArray(changes)) return [...(changes as readonly string[])];
  const c = changes as Resolved;
  const lines: string[] = [];
  for (const [k, v] of Object.entries(c.env ?? {})) lines.push(`ENV ${k}=${q(String(v))}`);
  for (const [k, v] of Object.entries(c.labels ?? {})) lines.push(`LABEL ${q(k)}=${q(String(v))}`);
  if (c.expose?.length) lines.push(`EXPOSE ${c.expose.join(" ")}`);
  if (c.user !== undefined) lines.push(`USER ${c.user}`);
  if (c.workdir !== undefined) lines.push(`WORKDIR ${c.workdir}`);
  if (c.volumes?.length) lines.push(`VOLUME ${JSON.stringify(c.volumes)}`);
  if (c.entrypoint !== undefined) lines.push(`ENTRYPOINT ${form(c.entrypoint)}`);
  if (c.cmd !== undefined) lines.push(`CMD ${form(c.cmd)}`);
  for (const line of c.onbuild ?? []) lines.push(`ONBUILD ${line}`);
  return lines;
}

/**
 * The commit's instructions: the user's, plus ENTRYPOINT and CMD restored from the source image
 * when the user did not set them (the build container ran a keep-alive command that must not
 * end up in the image, a difference from Packer, whose images keep `/bin/sh`). A source with no
 * CMD at all keeps the keep-alive command: the engine cannot commit a CMD back to "none".
 */
export function commitChanges(user: readonly string[], source: ImageConfig | undefined): string[] {
  const sets = (word: string): boolean => user.some((l) => l.trimStart().toUpperCase().startsWith(`${word} `) || l.trim().toUpperCase() === word);
  const out = [...user];
  if (!sets("ENTRYPOINT") && source?.entrypoint?.length) out.push(`ENTRYPOINT ${JSON.stringify(source.entrypoint)}`);
  if (!sets("CMD") && source?.cmd?.length) out.push(`CMD ${JSON.stringify(source.cmd)}`);
  return out;
}
