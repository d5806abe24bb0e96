/**
 * Option checks and defaults shared by the exports: the output name and directory, the VM's
 * hardware, the MAC address, and the guest OS as each hypervisor names it.
 */
import { createHash } from "node:crypto";
import { isAbsolute, resolve } from "node:path";
import type { GuestOs, VmHardware } from "../factory.js";
import { exportError } from "./errors.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The output name: the option or the image name, checked to be a safe file and VM name. */
export function outputName(option: unknown, image: string): string {
  const name = option === undefined ? image : option;
  if (typeof name !== "string" || !NAME.test(name)) {
    throw exportError(`export name ${JSON.stringify(name)} is not valid`, "use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit");
  }
  return name;
}

/** The output directory from its IR form (`{ $path }`), a recorded local path (`{ path, base }`) or a string. */
export function outputDirectory(option: unknown): string {
  if (typeof option === "string") return resolve(option);
  if (option && typeof option === "object") {
    const o = option as { $path?: unknown; path?: unknown; base?: unknown };
    if (typeof o.$path === "string") return o.$path;
    if (typeof o.path === "string") return isAbsolute(o.path) ? o.path : resolve(typeof o.base === "string" ? o.base : ".", o.path);
  }
  return resolve("output");
}

/** Hardware with defaults applied and checked. */
export interface Hardware {
  readonly cpus: number;
  readonly memory: number;
  readonly guestOs: GuestOs;
  readonly firmware: "bios" | "efi";
  /** 12 uppercase hex digits, no separators. */
  readonly mac: string;
}

const GUESTS: readonly GuestOs[] = ["debian", "ubuntu", "rhel", "linux"];

/** Applies defaults to the hardware options and checks them; `oui` is the hypervisor's MAC vendor prefix (6 hex digits). */
export function hardware(options: VmHardware, name: string, oui: string): Hardware {
  const cpus = options.cpus ?? 1;
  const memory = options.memory ?? 1024;
  const guestOs = options.guestOs ?? "debian";
  const firmware = options.firmware ?? "bios";
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 64) throw exportError(`cpus must be a whole number from 1 to 64, got ${cpus}`);
  if (!Number.isInteger(memory) || memory < 64 || memory > 1048576 || memory % 4 !== 0) {
    throw exportError(`memory must be a multiple of 4 MiB from 64 to 1048576, got ${memory}`);
  }
  if (!GUESTS.includes(guestOs)) throw exportError(`guestOs ${JSON.stringify(guestOs)} is not known`, `use one of ${GUESTS.join(", ")}`);
  if (firmware !== "bios" && firmware !== "efi") throw exportError(`firmware must be "bios" or "efi", got ${JSON.stringify(firmware)}`);
  return { cpus, memory, guestOs, firmware, mac: macAddress(options.mac, name, oui) };
}

/**
 * The NIC's MAC: the user's, normalised, or derived from the name under the vendor's prefix so
 * the same export gets the same MAC every run (a changing MAC renames NICs in some guests).
 */
export function macAddress(option: string | undefined, name: string, oui: string): string {
  if (option !== undefined) {
    const mac = String(option).replace(/[:-]/g, "").toUpperCase();
    if (!/^[0-9A-F]{12}$/.test(mac)) throw exportError(`mac ${JSON.stringify(option)} is not a MAC address`, "use 12 hex digits, e.g. 08:00:27:12:34:56");
    if (parseInt(mac.slice(0, 2), 16) & 1) throw exportError(`mac ${option} is a multicast address`, "the first byte must be even");
    return mac;
  }
  const tail = createHash("sha256").update(name).digest("hex").slice(0, 6).toUpperCase();
  // VMware's static range is 00:50:56:00:00:00-00:50:56:3F:FF:FF.
  if (oui === "005056") return oui + ((parseInt(tail.slice(0, 2), 16) & 0x3f).toString(16).padStart(2, "0").toUpperCase()) + tail.slice(2);
  return oui + tail;
}

/** `AABBCCDDEEFF` → `aa:bb:cc:dd:ee:ff` (or with another separator and case). */
export function formatMac(mac: string, sep = ":", lower = true): string {
  const s = mac.match(/../g)!.join(sep);
  return lower ? s.toLowerCase() : s;
}

/** VirtualBox OS type ids. */
export const VIRTUALBOX_OS: Record<GuestOs, string> = { debian: "Debian_64", ubuntu: "Ubuntu_64", rhel: "RedHat_64", linux: "Linux_64" };

/** DMTF CIM_OperatingSystem.OSType values the OVF OperatingSystemSection uses. */
export const CIM_OS: Record<GuestOs, number> = { debian: 96, ubuntu: 94, rhel: 80, linux: 101 };

/** VMware guestOS ids (known to hardware version 10 and later). */
export const VMWARE_OS: Record<GuestOs, string> = { debian: "debian8-64", ubuntu: "ubuntu-64", rhel: "rhel7-64", linux: "other3xlinux-64" };

/** Parallels OsType 9 (Linux) versions (the SDK's PVS_GUEST_VER_LIN_* values). */
export const PARALLELS_OS: Record<GuestOs, number> = { debian: 0x906, ubuntu: 0x905, rhel: 0x901, linux: 0x905 };

/** Rounds `n` up to a multiple of `unit`. */
export function roundUp(n: number, unit: number): number {
  return Math.ceil(n / unit) * unit;
}

/** One mebibyte. */
export const MiB = 1024 * 1024;
/** One gibibyte. */
export const GiB = 1024 * MiB;
