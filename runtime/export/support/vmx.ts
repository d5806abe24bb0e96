/**
 * VMware `.vmx` files: `key = "value"` lines in UTF-8, written from an ordered list, and the keys
 * a VM needs for Workstation/Fusion/Player to open it and ESXi to register it.
 */

/**
 * Encodes a value as VMware does: `|` and `"` and control characters become `|XX` (hex), so a
 * value can never close its quotes or start a new line.
 */
export function vmxValue(value: string | number | boolean): string {
  const s = typeof value === "boolean" ? (value ? "TRUE" : "FALSE") : String(value);
  return s.replace(/[|"\u0000-\u001f#]/g, (c) => "|" + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0"));
}

/** Renders entries in order; keys must be VMX identifiers. */
export function renderVmx(entries: readonly (readonly [string, string | number | boolean])[]): string {
  const seen = new Set<string>();
  const lines = entries.map(([key, value]) => {
    if (!/^[A-Za-z.][A-Za-z0-9_.:]*$/.test(key)) throw new Error(`${JSON.stringify(key)} is not a VMX key`);
    if (seen.has(key.toLowerCase())) throw new Error(`VMX key ${key} is set twice`);
    seen.add(key.toLowerCase());
    return `${key} = "${vmxValue(value)}"`;
  });
  return lines.join("\n") + "\n";
}

/** Parses a `.vmx` into a map (keys lower-cased, as VMware treats them), decoding `|XX`. */
export function parseVmx(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim() || line.trim().startsWith("#")) continue;
    const m = /^\s*([^=\s]+)\s*=\s*"(.*)"\s*$/.exec(line);
    if (!m) throw new Error(`not a VMX line: ${line}`);
    map.set(m[1]!.toLowerCase(), m[2]!.replace(/\|([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))));
  }
  return map;
}

/** Hardware versions the export knows (VMware KB 1003746). */
export const HW_VERSIONS = { min: 10, max: 21 } as const;

/**
 * Checks the keys VMware requires: encoding, config and hardware version, name, guest OS, memory
 * (a multiple of 4 MiB) and CPUs, a present disk controller with a present disk whose file is
 * `diskFile`, and a present NIC with a connection type and address type. Returns the problems.
 */
export function checkVmx(vmx: Map<string, string>, diskFile: string): string[] {
  const problems: string[] = [];
  const get = (k: string) => vmx.get(k.toLowerCase());
  const need = (k: string, test: (v: string) => boolean, what: string) => {
    const v = get(k);
    if (v === undefined) problems.push(`${k} is missing`);
    else if (!test(v)) problems.push(`${k} = "${v}" is not ${what}`);
  };
  need(".encoding", (v) => v === "UTF-8", "UTF-8");
  need("config.version", (v) => v === "8", "8");
  need("virtualHW.version", (v) => /^\d+$/.test(v) && +v >= HW_VERSIONS.min && +v <= HW_VERSIONS.max, `a hardware version from ${HW_VERSIONS.min} to ${HW_VERSIONS.max}`);
  need("displayName", (v) => v.length > 0, "a name");
  need("guestOS", (v) => /^[a-z0-9-]+$/.test(v), "a guestOS id");
  need("memsize", (v) => /^\d+$/.test(v) && +v >= 4 && +v % 4 === 0, "a multiple of 4 (MiB)");
  need("numvcpus", (v) => /^\d+$/.test(v) && +v >= 1, "a positive count");
  const disks = [...vmx.keys()].filter((k) => /^(scsi|sata|ide|nvme)\d+:\d+\.filename$/.test(k));
  if (disks.length === 0) problems.push("no disk (<bus>N:M.fileName) is configured");
  for (const key of disks) {
    const dev = key.slice(0, -".filename".length);
    const bus = dev.split(":")[0]!;
    if (get(`${dev}.present`) !== "TRUE") problems.push(`${dev}.present must be TRUE`);
    if (!bus.startsWith("ide") && get(`${bus}.present`) !== "TRUE") problems.push(`${bus}.present must be TRUE for the disk on it`);
    if (bus.startsWith("scsi") && !get(`${bus}.virtualDev`)) problems.push(`${bus}.virtualDev is missing`);
    if (get(key) !== diskFile) problems.push(`${key} is ${get(key)}, expected ${diskFile}`);
  }
  need("ethernet0.present", (v) => v === "TRUE", "TRUE");
  need("ethernet0.connectionType", (v) => ["nat", "bridged", "hostonly", "custom"].includes(v), "nat, bridged, hostonly or custom");
  need("ethernet0.virtualDev", (v) => ["e1000", "e1000e", "vmxnet3", "vlance", "vmxnet"].includes(v), "a NIC model");
  need("ethernet0.addressType", (v) => v === "generated" || v === "static", "generated or static");
  if (get("ethernet0.addressType") === "static") need("ethernet0.address", (v) => /^00:50:56:[0-3][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}$/i.test(v), "a MAC in VMware's static range 00:50:56:00:00:00-3F:FF:FF");
  return problems;
}
