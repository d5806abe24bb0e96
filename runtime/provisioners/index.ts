/**
 * The provisioner registry: provisioner type → its implementation module (`ProvisionerImpl`).
 * Built-ins are loaded lazily (an apply that runs no shell step never loads it); plugins add
 * theirs with `registerProvisioner`.
 */
import type { ProvisionerImpl } from "../types.js";

/** Built-in provisioner types and the file (beside this one) that implements each. */
const BUILTIN: Readonly<Record<string, string>> = {
  shell: "shell",
  file: "file",
  "shell-local": "shell-local",
  breakpoint: "breakpoint",
};

const registered = new Map<string, ProvisionerImpl | (() => Promise<ProvisionerImpl>)>();
const loaded = new Map<string, Promise<ProvisionerImpl>>();

/** Adds (or replaces) a provisioner implementation, or a loader of one. */
export function registerProvisioner(type: string, impl: ProvisionerImpl | (() => Promise<ProvisionerImpl>)): void {
  registered.set(type, impl);
  loaded.delete(type);
}

/** Types known to the registry. */
export function provisionerTypes(): string[] {
  return [...new Set([...Object.keys(BUILTIN), ...registered.keys()])].sort();
}

function pickImpl(mod: Record<string, unknown>, type: string): ProvisionerImpl {
  const candidates = [mod.default, ...Object.values(mod)];
  const impl = candidates.find((c): c is ProvisionerImpl => typeof c === "object" && c !== null && typeof (c as ProvisionerImpl).run === "function");
  if (!impl) throw new Error(`the module of the "${type}" provisioner exports no ProvisionerImpl (an object with type and run)`);
  return impl;
}

/** The implementation of `type`; throws a sentence naming the known types when there is none. */
export function loadProvisioner(type: string): Promise<ProvisionerImpl> {
  let promise = loaded.get(type);
  if (promise) return promise;
  const custom = registered.get(type);
  if (custom) promise = typeof custom === "function" ? custom() : Promise.resolve(custom);
  else if (BUILTIN[type]) {
    // A computed specifier keeps this module free of static imports of every provisioner.
    const file = `./${BUILTIN[type]}.js`;
    promise = (import(file) as Promise<Record<string, unknown>>).then((mod) => pickImpl(mod, type));
  } else {
    return Promise.reject(new Error(`no provisioner implements type "${type}"; known types: ${provisionerTypes().join(", ")}`));
  }
  loaded.set(type, promise);
  promise.catch(() => loaded.delete(type));
  return promise;
}
