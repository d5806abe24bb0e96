/**
 * Loads platform drivers from the module URL the compiler recorded (`node.driver.url`), the same
 * way for built-ins and plugins, once per module, and only when a node needs it — so an apply
 * that builds nothing never loads an SDK.
 */
import type { GraphNode } from "../compiler/ir.js";
import type { PlatformDriver } from "./types.js";

const cache = new Map<string, Promise<PlatformDriver>>();

function isDriver(x: unknown): x is PlatformDriver {
  return typeof x === "object" && x !== null && typeof (x as PlatformDriver).steps === "function" && typeof (x as PlatformDriver).createContext === "function";
}

/** The driver of `node`; checks it implements the node's platform type and version. */
export function loadDriver(node: Pick<GraphNode, "id" | "type" | "driver">): Promise<PlatformDriver> {
  const url = node.driver.url;
  if (!url) return Promise.reject(new Error(`cannot find the driver module ${node.driver.module} of ${node.id}; is the package that defines the ${node.type} platform installed?`));
  let p = cache.get(url);
  if (!p) {
    p = (import(url) as Promise<Record<string, unknown>>).then(
      (mod) => {
        const driver = mod.default;
        if (!isDriver(driver)) throw new Error(`the driver module ${node.driver.module} (${url}) has no default export implementing PlatformDriver (createContext, steps, communicator, artifact)`);
        return driver;
      },
      (error: Error) => {
        throw new Error(`cannot load the driver ${node.driver.module} of ${node.id} from ${url}: ${error.message}`);
      },
    );
    cache.set(url, p);
    p.catch(() => cache.delete(url));
  }
  return p.then((driver) => {
    if (driver.type !== node.type) throw new Error(`the driver ${node.driver.module} implements platform "${driver.type}", but ${node.id} is of type "${node.type}"`);
    if (driver.version !== node.driver.version) {
      throw new Error(`the driver ${node.driver.module} is version ${driver.version} but its factory says ${node.driver.version}; the platform package is inconsistent`);
    }
    return driver;
  });
}
