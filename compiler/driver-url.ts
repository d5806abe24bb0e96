/**
 * Where a platform's driver module lives. A platform spec names its driver by module specifier
 * (`imgc/drivers/docker`, `imgc-plugin-acme/driver`); the runtime imports it at apply time.
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { imgcRoot } from "./load.js";

const cache = new Map<string, string>();

/**
 * Resolves a driver specifier to a file URL, as the definitions file at `fromFile` would import
 * it (so a plugin installed in the user's project is found), falling back to the running imgc
 * for `imgc/…` specifiers. Absolute file URLs and paths are returned as URLs. Returns `""` when
 * the module cannot be found: compiling never needs the driver; the runtime reports the missing
 * module when it has to build the node.
 */
export function resolveDriverUrl(specifier: string, fromFile: string): string {
  const key = `${specifier}\0${fromFile}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  let url = "";
  if (specifier.startsWith("file:")) url = specifier;
  else if (specifier.startsWith("/")) url = pathToFileURL(specifier).href;
  else {
    const parents = [fromFile, join(imgcRoot, "package.json")];
    for (const parent of parents) {
      try {
        url = pathToFileURL(createRequire(parent).resolve(specifier)).href;
        break;
      } catch {
        /* try the next parent */
      }
    }
  }
  cache.set(key, url);
  return url;
}
