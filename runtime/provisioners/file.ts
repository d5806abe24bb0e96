/**
 * The `file` provisioner: uploads a local file or directory, downloads one, or writes a file
 * from a string. Directories follow the trailing-slash rule (rsync's and Packer's): `dir/`
 * copies the contents into the destination, `dir` the directory itself. A file uploaded to a
 * destination ending in `/` keeps its name inside that directory.
 */
import { mkdir, stat } from "node:fs/promises";
import { basename, dirname, join, posix } from "node:path";
import { isIrPath, type IrPath } from "../../compiler/ir.js";
import type { ProvisionerContext, ProvisionerImpl } from "../types.js";
import { shQuote } from "../communicators/shell-quote.js";
import { localPathOf } from "./common.js";
import { lastSegment } from "../communicators/paths.js";

/** File options as the runtime receives them (resolved). */
export type FileRuntimeOptions =
  | { readonly direction: "upload"; readonly source: IrPath | string; readonly destination: string; readonly mode?: number; readonly owner?: string; readonly contents?: boolean }
  | { readonly direction: "download"; readonly source: string; readonly destination: IrPath | string }
  | { readonly direction: "content"; readonly content: string; readonly destination: string; readonly mode?: number; readonly owner?: string };

function checkMode(mode: unknown): number | undefined {
  if (mode === undefined) return undefined;
  if (!Number.isInteger(mode) || (mode as number) < 0 || (mode as number) > 0o7777) throw new Error(`mode must be a file mode like 0o644, got ${JSON.stringify(mode)}`);
  return mode as number;
}

function checkRemote(path: unknown, what: string): string {
  if (typeof path !== "string" || path === "") throw new Error(`${what} must be a non-empty path on the machine, got ${JSON.stringify(path)}`);
  return path;
}

/** True when the user wrote the source with a trailing slash (kept by the DSL as `contents`, or in the marker). */
function wantsContents(o: { source: IrPath | string; contents?: boolean }): boolean {
  if (o.contents) return true;
  const p = isIrPath(o.source) ? o.source.$path : o.source;
  return typeof p === "string" && p.endsWith("/");
}

async function remoteIsDir(ctx: ProvisionerContext, path: string, signal: AbortSignal): Promise<boolean> {
  const r = await ctx.comm.exec({ command: `test -d ${shQuote(path)}` }, signal);
  return r.exitCode === 0;
}

async function upload(o: Extract<FileRuntimeOptions, { direction: "upload" }>, ctx: ProvisionerContext, signal: AbortSignal): Promise<void> {
  const source = localPathOf(o.source, "source");
  const destination = checkRemote(o.destination, "destination");
  const options = { ...(checkMode(o.mode) !== undefined ? { mode: o.mode! } : {}), ...(o.owner ? { owner: o.owner } : {}) };
  const st = await stat(source).catch(() => {
    throw new Error(`source ${source} does not exist`);
  });
  if (st.isDirectory()) {
    const from = wantsContents(o) ? source.replace(/\/*$/, "/") : source.replace(/\/+$/, "");
    ctx.log.log("info", `uploading directory ${from} to ${destination}`);
    await ctx.comm.uploadDir(destination, from, options, signal);
    return;
  }
  const target = destination.endsWith("/") ? posix.join(destination, basename(source)) : destination;
  ctx.log.log("info", `uploading ${source} to ${target}`);
  await ctx.comm.upload(target, source, options, signal);
}

async function download(o: Extract<FileRuntimeOptions, { direction: "download" }>, ctx: ProvisionerContext, signal: AbortSignal): Promise<void> {
  const source = checkRemote(o.source, "source");
  const written = isIrPath(o.destination) ? o.destination.$path : localPathOf(o.destination, "destination");
  if (await remoteIsDir(ctx, source, signal)) {
    ctx.log.log("info", `downloading directory ${source} to ${written}`);
    await ctx.comm.downloadDir(source, written, signal);
    return;
  }
  const isDirTarget = written.endsWith("/") || (await stat(written).then((s) => s.isDirectory(), () => false));
  const target = isDirTarget ? join(written, lastSegment(source)) : written;
  await mkdir(dirname(target), { recursive: true });
  ctx.log.log("info", `downloading ${source} to ${target}`);
  await ctx.comm.download(source, target, signal);
}

async function content(o: Extract<FileRuntimeOptions, { direction: "content" }>, ctx: ProvisionerContext, signal: AbortSignal): Promise<void> {
  if (typeof o.content !== "string") throw new Error(`content must be a string, got ${JSON.stringify(o.content)}`);
  const destination = checkRemote(o.destination, "destination");
  ctx.log.log("info", `writing ${Buffer.byteLength(o.content)} bytes to ${destination}`);
  await ctx.comm.upload(destination, Buffer.from(o.content), { mode: checkMode(o.mode) ?? 0o644, ...(o.owner ? { owner: o.owner } : {}) }, signal);
}

/** The file provisioner. */
export const fileProvisioner: ProvisionerImpl<FileRuntimeOptions> = {
  type: "file",
  async run(o, ctx, signal) {
    switch (o.direction) {
      case "upload":
        return upload(o, ctx, signal);
      case "download":
        return download(o, ctx, signal);
      case "content":
        return content(o, ctx, signal);
      default:
        throw new Error(`file direction must be upload, download or content, got ${JSON.stringify((o as { direction: unknown }).direction)}`);
    }
  },
};

export default fileProvisioner;
