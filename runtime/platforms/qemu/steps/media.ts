/**
 * Step "media": the seed CD image (`cdFiles`/`cdContent`, labelled `cdLabel`, e.g. a cloud-init
 * NoCloud `cidata`), the floppy directory (`floppyFiles`, attached through QEMU's vvfat, so no
 * FAT tools are needed), and the per-build UEFI variable store.
 */
import { cp, copyFile, mkdir, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, normalize } from "node:path";
import type { Step } from "../../../types.js";
import type { QemuContext } from "../context.js";

async function stage(dir: string, files: readonly string[], content: Readonly<Record<string, string>>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const f of files) await cp(f, join(dir, basename(f)), { recursive: true });
  for (const [name, text] of Object.entries(content)) {
    const rel = normalize(name).replace(/^(\.\.(\/|$))+/, "").replace(/^\/+/, "");
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    await writeFile(join(dir, rel), text);
  }
}

export const mediaStep: Step<QemuContext> = {
  name: "media",
  async run(ctx, signal) {
    const c = ctx.config;
    if (c.cdFiles.length > 0 || Object.keys(c.cdContent).length > 0) {
      const dir = join(ctx.workDir, "cd");
      await stage(dir, c.cdFiles, c.cdContent);
      const iso = join(ctx.workDir, "cd.iso");
      ctx.cd = iso;
      await ctx.backend.makeIso(dir, c.cdLabel, iso, signal);
      await rm(dir, { recursive: true, force: true });
    }
    if (c.floppyFiles.length > 0) {
      const dir = join(ctx.workDir, "floppy");
      ctx.floppyDir = dir;
      await stage(dir, c.floppyFiles, {});
    }
    if (c.firmware.kind === "uefi") {
      const vars = join(ctx.workDir, "efivars.fd");
      ctx.efiVars = vars;
      await copyFile(c.firmware.vars, vars);
    }
  },
  async cleanup(ctx) {
    for (const p of [ctx.cd, ctx.floppyDir, ctx.efiVars]) if (p) await rm(p, { recursive: true, force: true });
    ctx.cd = ctx.floppyDir = ctx.efiVars = undefined;
  },
};
