/**
 * The export post-processors by type (`export-virtualbox`, …): what the runtime's
 * post-processor registry maps each `export-<format>` spec to.
 */
import type { ExportImpl } from "./types.js";
import { azure } from "./azure.js";
import { gce } from "./gce.js";
import { hyperv } from "./hyperv.js";
import { parallels } from "./parallels.js";
import { vagrant } from "./vagrant.js";
import { virtualbox } from "./virtualbox.js";
import { vmware } from "./vmware.js";

/** Every export implementation, in `EXPORT_FORMATS` order. */
export const EXPORTS: readonly ExportImpl<any>[] = [virtualbox, vmware, hyperv, parallels, azure, gce, vagrant];

/** The export implementation of a post-processor type, or undefined when the type is not an export. */
export function exportFor(type: string): ExportImpl<any> | undefined {
  return EXPORTS.find((e) => e.type === type);
}

export type { ExportImpl, ExportContext, ExportArtifactData, ExportedFile } from "./types.js";
