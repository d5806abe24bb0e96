/**
 * Azure export: `<name>.vhd`, a fixed VHD whose virtual size is rounded up to a whole MiB (Azure
 * refuses anything else), written by qemu-img with `force_size` so the footer says exactly that
 * size instead of a CHS-rounded one. The footer is parsed and checked after writing.
 */
import { rm } from "node:fs/promises";
import type { ExportImpl } from "./types.js";
import { exportError } from "./support/errors.js";
import { convert, growRaw } from "./support/qemu-img.js";
import { runExport } from "./support/run.js";
import { GiB, MiB, roundUp } from "./support/settings.js";
import { checkAzureVhd } from "./support/vhd.js";

/** Azure's largest managed-disk VHD upload (4095 GiB, data disks; OS disks up to 4 TiB use it too). */
export const AZURE_MAX_VHD = 4095 * GiB;

/** The `export-azure` post-processor. */
export const azure: ExportImpl<"azure"> = {
  type: "export-azure",
  run: (artifact, options, ctx) =>
    runExport("azure", artifact, options, ctx, async ({ source, name, staging }) => {
      const size = roundUp(source.virtualSize, MiB);
      if (size > AZURE_MAX_VHD) throw exportError(`the disk is ${size} bytes, more than the ${AZURE_MAX_VHD} bytes (4095 GiB) Azure takes as a VHD`);
      let from: { path: string; format: string } = source;
      if (size !== source.virtualSize) {
        // Grow a sparse raw copy to the whole MiB; qemu-img cannot resize while converting.
        ctx.log.log("info", `export azure: rounding the virtual size up from ${source.virtualSize} to ${size} bytes (a whole MiB)`);
        const raw = `${ctx.workDir}/azure-${name}-${process.pid}.raw`;
        await convert(source, { path: raw, format: "raw" }, ctx.signal);
        await growRaw(raw, size, ctx.signal);
        from = { path: raw, format: "raw" };
      }
      const vhd = `${name}.vhd`;
      try {
        await convert(from, { path: staging.file(vhd), format: "vpc", options: ["subformat=fixed", "force_size=on"] }, ctx.signal);
      } finally {
        if (from !== source) await rm(from.path, { force: true });
      }
      const { footer, problems } = await checkAzureVhd(staging.file(vhd));
      return {
        entries: [vhd],
        main: vhd,
        virtualSize: size,
        details: { vhd, roundedFrom: source.virtualSize, diskType: "fixed", creator: footer?.creatorApp ?? "", checksum: footer?.checksum ?? 0 },
        problems,
      };
    }),
};
