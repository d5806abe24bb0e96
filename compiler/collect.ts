/**
 * Collects the images a definitions module declares: its default export (an image or an array
 * of images) and its named exports (same), plus every image they reach through `from` and
 * `dependsOn` (an upstream need not be exported). Deduplicated by identity; two different images
 * with one name are an error naming both sites.
 */
import { isImage, type Image } from "../lang/image.js";
import { formatSite, type SourceSite } from "../lang/site.js";
import { relative } from "node:path";
import { ImgcError, type ImgcError as E } from "./diagnostics.js";
import { mapSite } from "./load.js";

function relativeSite(site: SourceSite): SourceSite {
  const rel = relative(process.cwd(), site.file);
  return rel && !rel.startsWith("..") ? { ...site, file: rel } : site;
}

/** Images of a module, in a stable order (declaration order of exports, then upstreams). */
export function collectImages(namespace: Record<string, unknown>, file: string): { images: Image[]; errors: E[] } {
  const seen = new Set<Image>();
  const ordered: Image[] = [];
  const add = (img: Image): void => {
    if (seen.has(img)) return;
    seen.add(img);
    ordered.push(img);
  };
  const visitExport = (value: unknown): void => {
    if (isImage(value)) add(value);
    else if (Array.isArray(value)) value.forEach((v) => isImage(v) && add(v));
  };
  if ("default" in namespace) visitExport(namespace.default);
  for (const key of Object.keys(namespace)) if (key !== "default") visitExport(namespace[key]);
  if (ordered.length === 0) {
    throw new ImgcError({
      code: "IMGC_NO_IMAGES",
      message: "the definitions file exports no image",
      site: { file, line: 1, column: 1 },
      hint: "export default image(\"name\", { ... }) (or an array of images), or export const x = image(...)",
    });
  }
  // Upstreams reached through from/dependsOn, breadth-first.
  for (let i = 0; i < ordered.length; i++) {
    const img = ordered[i]!;
    if (img.from && isImage(img.from)) add(img.from);
    for (const d of img.dependsOn) if (isImage(d)) add(d);
  }
  const errors: E[] = [];
  const byName = new Map<string, Image>();
  for (const img of ordered) {
    const other = byName.get(img.name);
    if (other) {
      errors.push(
        new ImgcError({
          code: "IMGC_DUPLICATE_IMAGE",
          message: `two images are named "${img.name}" (the other is declared at ${formatSite(relativeSite(mapSite(other.site)))})`,
          site: mapSite(img.site),
          hint: "image names must be unique in a project: rename one of them",
        }),
      );
    } else byName.set(img.name, img);
  }
  return { images: ordered, errors };
}
