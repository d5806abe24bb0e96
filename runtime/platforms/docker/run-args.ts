/**
 * `runArgs` (extra `docker run` flags) parsed into Engine API fields. The backend never runs
 * the docker CLI, so flags are translated, and an unknown flag is an error that lists the ones
 * understood rather than being silently ignored.
 */
import type { ContainerExtra } from "./backend.js";

/** What `runArgs` set. */
export interface ParsedRunArgs {
  readonly extra: ContainerExtra;
  readonly network?: string;
  /** `-e/--env` entries (these become part of the container config, and so of a commit). */
  readonly env?: readonly string[];
}

const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Parses `512m`, `1g`, `65536` into bytes. */
export function parseSize(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)([bkmg]?)b?$/i.exec(text.trim());
  if (!m) throw new Error(`runArgs: ${flag} expects a size such as 512m or 1g, got "${text}"`);
  return Math.round(Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!);
}

const FLAGS = [
  "--hostname", "-h", "--shm-size", "--memory", "-m", "--cpus", "--tmpfs", "--add-host", "--device", "--security-opt",
  "--ulimit", "--init", "--dns", "--sysctl", "--network", "--net", "--env", "-e",
] as const;

/** Translates `runArgs`; throws naming the flag it does not understand. */
export function parseRunArgs(args: readonly string[]): ParsedRunArgs {
  const x: {
    hostname?: string; shmSize?: number; memory?: number; nanoCpus?: number; tmpfs?: Record<string, string>;
    extraHosts?: string[]; devices?: string[]; securityOpt?: string[]; ulimits?: { name: string; soft: number; hard: number }[];
    init?: boolean; dns?: string[]; sysctls?: Record<string, string>;
  } = {};
  let network: string | undefined;
  const env: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (!(FLAGS as readonly string[]).includes(flag)) {
      throw new Error(`runArgs: "${arg}" is not supported; supported flags: ${FLAGS.join(", ")} (or use the docker options: volumes, privileged, capAdd, capDrop, network, platform, user, workdir, env)`);
    }
    if (flag === "--init") {
      x.init = true;
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined) throw new Error(`runArgs: ${flag} needs a value`);
    switch (flag) {
      case "--hostname": case "-h": x.hostname = value; break;
      case "--shm-size": x.shmSize = parseSize(value, flag); break;
      case "--memory": case "-m": x.memory = parseSize(value, flag); break;
      case "--cpus": {
        const n = Number(value);
        if (!(n > 0)) throw new Error(`runArgs: --cpus expects a positive number, got "${value}"`);
        x.nanoCpus = Math.round(n * 1e9);
        break;
      }
      case "--tmpfs": {
        const [path, opts = ""] = value.split(/:(.*)/s);
        (x.tmpfs ??= {})[path!] = opts;
        break;
      }
      case "--add-host": (x.extraHosts ??= []).push(value); break;
      case "--device": (x.devices ??= []).push(value); break;
      case "--security-opt": (x.securityOpt ??= []).push(value); break;
      case "--ulimit": {
        const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(value);
        if (!m) throw new Error(`runArgs: --ulimit expects name=soft[:hard], got "${value}"`);
        (x.ulimits ??= []).push({ name: m[1]!, soft: Number(m[2]), hard: Number(m[3] ?? m[2]) });
        break;
      }
      case "--dns": (x.dns ??= []).push(value); break;
      case "--sysctl": {
        const [k, v = ""] = value.split(/=(.*)/s);
        (x.sysctls ??= {})[k!] = v;
        break;
      }
      case "--network": case "--net": network = value; break;
      case "--env": case "-e": env.push(value.includes("=") ? value : `${value}=${process.env[value] ?? ""}`); break;
    }
  }
  return { extra: x, ...(network ? { network } : {}), ...(env.length ? { env } : {}) };
}
