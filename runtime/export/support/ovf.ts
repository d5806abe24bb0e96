/**
 * OVF 1.0 (DMTF DSP0243 1.0): the descriptor of a VirtualBox appliance, written with xmlbuilder2,
 * and the envelope rules it must follow, checked by `checkOvf` (the export runs it on what it
 * wrote, the tests on what they unpack). Also the SHA-256 manifest (`.mf`) beside it.
 */
import { create } from "xmlbuilder2";
import type { Hardware } from "./settings.js";

/** XML namespaces of an OVF 1.0 descriptor. */
export const NS = {
  ovf: "http://schemas.dmtf.org/ovf/envelope/1",
  rasd: "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData",
  vssd: "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData",
  vbox: "http://www.virtualbox.org/ovf/machine",
  xsi: "http://www.w3.org/2001/XMLSchema-instance",
} as const;

/** The disk format URI OVF packages use for streamOptimized VMDKs. */
export const VMDK_STREAM_OPTIMIZED = "http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized";

/** CIM ResourceType values used here. */
export const RESOURCE = { cpu: 3, memory: 4, ide: 5, scsi: 6, ethernet: 10, disk: 17, sata: 20 } as const;

/** What the descriptor describes. */
export interface OvfSpec {
  /** VM name (VirtualSystem id and name). */
  readonly name: string;
  readonly hardware: Hardware;
  /** DMTF CIM OS type id. */
  readonly cimOs: number;
  /** VirtualBox OS type id (a `vbox:OSType` hint). */
  readonly vboxOsType: string;
  readonly controller: "sata" | "ide" | "scsi";
  readonly nic: "e1000" | "virtio" | "pcnet";
  /** The disk file as referenced from the descriptor. */
  readonly disk: { readonly href: string; readonly size: number; readonly capacity: number; readonly populatedSize?: number };
}

const CONTROLLERS = {
  ide: { type: RESOURCE.ide, sub: "PIIX4", caption: "ideController0", description: "IDE Controller" },
  sata: { type: RESOURCE.sata, sub: "AHCI", caption: "sataController0", description: "SATA Controller" },
  scsi: { type: RESOURCE.scsi, sub: "lsilogic", caption: "scsiController0", description: "SCSI Controller" },
} as const;

const NICS = { e1000: "E1000", virtio: "virtio", pcnet: "PCNet32" } as const;

/** The network the NIC connects to. */
const NETWORK = "NAT";

type Rasd = Record<string, string | number | boolean>;

/** Writes the OVF 1.0 descriptor. */
export function buildOvf(spec: OvfSpec): string {
  const ovf = (name: string) => `ovf:${name}`;
  const env = create({ version: "1.0", encoding: "UTF-8" }).ele(NS.ovf, "Envelope", {
    xmlns: NS.ovf, "xmlns:ovf": NS.ovf, "xmlns:rasd": NS.rasd, "xmlns:vssd": NS.vssd, "xmlns:vbox": NS.vbox, "xmlns:xsi": NS.xsi,
  }).att(NS.ovf, ovf("version"), "1.0").att("xml:lang", "en-US");

  env.ele("References").ele("File").att(NS.ovf, ovf("id"), "file1").att(NS.ovf, ovf("href"), spec.disk.href).att(NS.ovf, ovf("size"), String(spec.disk.size));

  const disks = env.ele("DiskSection");
  disks.ele("Info").txt("List of the virtual disks used in the package");
  const disk = disks.ele("Disk")
    .att(NS.ovf, ovf("capacity"), String(spec.disk.capacity))
    .att(NS.ovf, ovf("diskId"), "vmdisk1")
    .att(NS.ovf, ovf("fileRef"), "file1")
    .att(NS.ovf, ovf("format"), VMDK_STREAM_OPTIMIZED);
  if (spec.disk.populatedSize !== undefined) disk.att(NS.ovf, ovf("populatedSize"), String(spec.disk.populatedSize));

  const nets = env.ele("NetworkSection");
  nets.ele("Info").txt("Logical networks used in the package");
  nets.ele("Network").att(NS.ovf, ovf("name"), NETWORK).ele("Description").txt("Logical network used by this appliance.");

  const vs = env.ele("VirtualSystem").att(NS.ovf, ovf("id"), spec.name);
  vs.ele("Info").txt("A virtual machine");
  vs.ele("Name").txt(spec.name);
  const os = vs.ele("OperatingSystemSection").att(NS.ovf, ovf("id"), String(spec.cimOs));
  os.ele("Info").txt("The kind of installed guest operating system");
  os.ele("Description").txt(spec.vboxOsType);
  os.ele(NS.vbox, "vbox:OSType").att(NS.ovf, ovf("required"), "false").txt(spec.vboxOsType);

  const hw = vs.ele("VirtualHardwareSection");
  hw.ele("Info").txt("Virtual hardware requirements for a virtual machine");
  const system = hw.ele("System");
  // CIM_VirtualSystemSettingData properties, in the schema's (alphabetical) order.
  system.ele(NS.vssd, "vssd:ElementName").txt("Virtual Hardware Family");
  system.ele(NS.vssd, "vssd:InstanceID").txt("0");
  system.ele(NS.vssd, "vssd:VirtualSystemIdentifier").txt(spec.name);
  system.ele(NS.vssd, "vssd:VirtualSystemType").txt("virtualbox-2.2");

  const { cpus, memory } = spec.hardware;
  const controller = CONTROLLERS[spec.controller];
  const items: Rasd[] = [
    { Caption: `${cpus} virtual CPU`, Description: "Number of virtual CPUs", ElementName: `${cpus} virtual CPU`, InstanceID: 1, ResourceType: RESOURCE.cpu, VirtualQuantity: cpus },
    { AllocationUnits: "MegaBytes", Caption: `${memory} MB of memory`, Description: "Memory Size", ElementName: `${memory} MB of memory`, InstanceID: 2, ResourceType: RESOURCE.memory, VirtualQuantity: memory },
    { Address: 0, Caption: controller.caption, Description: controller.description, ElementName: controller.caption, InstanceID: 3, ResourceSubType: controller.sub, ResourceType: controller.type },
    { AutomaticAllocation: true, Caption: `Ethernet adapter on '${NETWORK}'`, Connection: NETWORK, ElementName: `Ethernet adapter on '${NETWORK}'`, InstanceID: 4, ResourceSubType: NICS[spec.nic], ResourceType: RESOURCE.ethernet },
    { AddressOnParent: 0, Caption: "disk1", Description: "Disk Image", ElementName: "disk1", HostResource: "ovf:/disk/vmdisk1", InstanceID: 5, Parent: 3, ResourceType: RESOURCE.disk },
  ];
  for (const item of items) {
    const el = hw.ele("Item");
    // OVF 1.0's schema makes rasd:* a sequence in alphabetical order; strict importers (ovftool) enforce it.
    for (const key of Object.keys(item).sort()) el.ele(NS.rasd, `rasd:${key}`).txt(String(item[key]));
  }
  return env.end({ prettyPrint: true });
}

/** A file in the package, for the checks: its name as referenced and its real size. */
export interface PackageFile {
  readonly name: string;
  readonly size: number;
}

/** The part of the DOM (xmlbuilder2's) the checks read. */
interface El {
  readonly nodeType: number;
  readonly namespaceURI: string | null;
  readonly localName: string;
  readonly textContent: string | null;
  readonly childNodes: ArrayLike<unknown>;
  readonly attributes: ArrayLike<{ readonly name: string; readonly localName: string; readonly namespaceURI: string | null; readonly value: string }>;
  lookupNamespaceURI(prefix: string | null): string | null;
}

function children(el: El, ns?: string, local?: string): El[] {
  return (Array.from(el.childNodes) as El[]).filter((n) => n.nodeType === 1 && (!ns || (n as El).namespaceURI === ns) && (!local || (n as El).localName === local));
}

/**
 * An `ovf:` attribute. Resolved through the element's in-scope prefixes by hand: xmlbuilder2's
 * parser leaves prefixed attributes without a namespace.
 */
function ovfAttr(el: El, name: string): string | null {
  for (const a of Array.from(el.attributes)) {
    if (a.namespaceURI === NS.ovf && a.localName === name) return a.value;
    const [prefix, local] = a.name.split(":");
    if (local === name && prefix && el.lookupNamespaceURI(prefix) === NS.ovf) return a.value;
  }
  return null;
}

/**
 * Checks a descriptor against the OVF 1.0 envelope rules: the Envelope and its namespace,
 * References first with unique file ids and hrefs, sizes that match the files, every section
 * starting with `Info`, disks pointing at files, one VirtualSystem with a hardware section whose
 * items have unique InstanceIDs, valid parents, disks and networks that exist, and rasd
 * properties in schema order. Returns the problems found (empty when the descriptor is sound).
 */
export function checkOvf(xml: string, files: readonly PackageFile[]): string[] {
  const problems: string[] = [];
  let root: El;
  try {
    root = create(xml).root().node as unknown as El;
  } catch (error) {
    return [`the descriptor is not well-formed XML: ${(error as Error).message}`];
  }
  if (root.localName !== "Envelope" || root.namespaceURI !== NS.ovf) return [`the root element must be Envelope in ${NS.ovf}, got ${root.localName} in ${root.namespaceURI}`];
  const version = ovfAttr(root, "version");
  if (version !== null && !/^1\.\d+(\.\d+)?$/.test(version)) problems.push(`ovf:version ${version} is not an OVF 1.x version`);

  const top = children(root);
  if (top[0]?.localName !== "References") problems.push("References must be the first element of the Envelope");
  const refs = children(root, NS.ovf, "References");
  if (refs.length !== 1) problems.push(`the Envelope must have exactly one References element, found ${refs.length}`);
  const fileIds = new Map<string, El>();
  const hrefs = new Set<string>();
  for (const file of refs[0] ? children(refs[0], NS.ovf, "File") : []) {
    const id = ovfAttr(file, "id");
    const href = ovfAttr(file, "href");
    if (!id) { problems.push("a File has no ovf:id"); continue; }
    if (fileIds.has(id)) problems.push(`File id ${id} is used twice`);
    fileIds.set(id, file);
    if (!href) { problems.push(`File ${id} has no ovf:href`); continue; }
    if (hrefs.has(href)) problems.push(`File href ${href} is listed twice`);
    hrefs.add(href);
    if (/^[a-z]+:/i.test(href) || href.startsWith("/") || href.split("/").includes("..")) problems.push(`File ${id} href ${href} must be a relative path inside the package`);
    const actual = files.find((f) => f.name === href);
    if (!actual) problems.push(`File ${id} refers to ${href}, which is not in the package`);
    const size = ovfAttr(file, "size");
    if (size === null) problems.push(`File ${id} has no ovf:size`);
    else if (actual && Number(size) !== actual.size) problems.push(`File ${id} says ovf:size ${size} but ${href} has ${actual.size} bytes`);
  }

  // Sections (each starts with Info), then exactly one content element.
  const content = top.filter((e) => e.namespaceURI === NS.ovf && (e.localName === "VirtualSystem" || e.localName === "VirtualSystemCollection"));
  if (content.length !== 1) problems.push(`the Envelope must have exactly one VirtualSystem or VirtualSystemCollection, found ${content.length}`);
  else if (top[top.length - 1] !== content[0]) problems.push("the VirtualSystem must come after every section");
  for (const section of top.filter((e) => e.localName.endsWith("Section"))) {
    if (children(section)[0]?.localName !== "Info") problems.push(`${section.localName} must start with an Info element`);
  }

  const diskIds = new Set<string>();
  const usedFiles = new Set<string>();
  for (const section of children(root, NS.ovf, "DiskSection")) {
    for (const disk of children(section, NS.ovf, "Disk")) {
      const id = ovfAttr(disk, "diskId");
      if (!id) { problems.push("a Disk has no ovf:diskId"); continue; }
      if (diskIds.has(id)) problems.push(`Disk id ${id} is used twice`);
      diskIds.add(id);
      const capacity = ovfAttr(disk, "capacity");
      if (!capacity || !/^\d+$/.test(capacity) || Number(capacity) <= 0) problems.push(`Disk ${id} needs ovf:capacity, a positive number of bytes, got ${capacity}`);
      if (!ovfAttr(disk, "format")) problems.push(`Disk ${id} has no ovf:format`);
      const ref = ovfAttr(disk, "fileRef");
      if (ref !== null) {
        if (!fileIds.has(ref)) problems.push(`Disk ${id} refers to File ${ref}, which References does not list`);
        usedFiles.add(ref);
      }
    }
  }
  for (const id of fileIds.keys()) if (!usedFiles.has(id)) problems.push(`File ${id} is listed in References but nothing uses it`);

  const networks = new Set<string>();
  for (const section of children(root, NS.ovf, "NetworkSection")) {
    for (const net of children(section, NS.ovf, "Network")) {
      const name = ovfAttr(net, "name");
      if (!name) problems.push("a Network has no ovf:name");
      else networks.add(name);
    }
  }

  const vs = content[0];
  if (vs) {
    if (!ovfAttr(vs, "id")) problems.push("the VirtualSystem has no ovf:id");
    if (children(vs)[0]?.localName !== "Info") problems.push("the VirtualSystem must start with an Info element");
    for (const section of children(vs).filter((e) => e.localName.endsWith("Section"))) {
      if (children(section)[0]?.localName !== "Info") problems.push(`${section.localName} must start with an Info element`);
    }
    const os = children(vs, NS.ovf, "OperatingSystemSection");
    if (os.length && !/^\d+$/.test(ovfAttr(os[0]!, "id") ?? "")) problems.push("OperatingSystemSection needs a numeric ovf:id (a CIM OS type)");
    const hws = children(vs, NS.ovf, "VirtualHardwareSection");
    if (hws.length === 0) problems.push("the VirtualSystem has no VirtualHardwareSection");
    for (const hw of hws) problems.push(...checkHardware(hw, diskIds, networks));
  }
  return problems;
}

function checkHardware(hw: El, diskIds: Set<string>, networks: Set<string>): string[] {
  const problems: string[] = [];
  const system = children(hw, NS.ovf, "System")[0];
  if (system && !children(system, NS.vssd, "VirtualSystemType").length) problems.push("System has no vssd:VirtualSystemType");
  const items = children(hw, NS.ovf, "Item").map((item) => {
    const props = children(item, NS.rasd);
    const get = (k: string) => props.find((p) => p.localName === k)?.textContent ?? null;
    return { props, get };
  });
  const ids = new Set<string>();
  const counts = new Map<string, number>();
  for (const { props, get } of items) {
    const id = get("InstanceID");
    const type = get("ResourceType");
    if (!id) problems.push("an Item has no rasd:InstanceID");
    else if (ids.has(id)) problems.push(`Item InstanceID ${id} is used twice`);
    else ids.add(id);
    if (!type || !/^\d+$/.test(type)) problems.push(`Item ${id} has no numeric rasd:ResourceType`);
    else counts.set(type, (counts.get(type) ?? 0) + 1);
    if (!get("ElementName")) problems.push(`Item ${id} has no rasd:ElementName`);
    const names = props.map((p) => p.localName);
    const sorted = [...names].sort();
    if (names.join() !== sorted.join()) problems.push(`Item ${id}: rasd properties must be in schema order (${sorted.join(", ")})`);
  }
  for (const { get } of items) {
    const id = get("InstanceID");
    const parent = get("Parent");
    if (parent !== null && !ids.has(parent)) problems.push(`Item ${id} has Parent ${parent}, which is no Item's InstanceID`);
    const type = Number(get("ResourceType"));
    if (type === RESOURCE.disk) {
      const host = get("HostResource") ?? "";
      const m = /^(?:ovf:\/|\/)disk\/(.+)$/.exec(host);
      if (!m) problems.push(`disk Item ${id} has HostResource ${host}, expected ovf:/disk/<diskId>`);
      else if (!diskIds.has(m[1]!)) problems.push(`disk Item ${id} points at disk ${m[1]}, which DiskSection does not list`);
      if (parent === null) problems.push(`disk Item ${id} has no Parent controller`);
    }
    if (type === RESOURCE.ethernet) {
      const conn = get("Connection");
      if (!conn || !networks.has(conn)) problems.push(`NIC Item ${id} connects to ${conn}, which NetworkSection does not list`);
    }
    if ((type === RESOURCE.cpu || type === RESOURCE.memory) && !/^\d+$/.test(get("VirtualQuantity") ?? "")) problems.push(`Item ${id} needs a numeric rasd:VirtualQuantity`);
  }
  if (counts.get(String(RESOURCE.cpu)) !== 1) problems.push("the hardware must have exactly one CPU Item (ResourceType 3)");
  if (counts.get(String(RESOURCE.memory)) !== 1) problems.push("the hardware must have exactly one memory Item (ResourceType 4)");
  return problems;
}

/** A manifest line per file: `SHA256(name)= hex`, the form VirtualBox and ovftool read. */
export function buildManifest(entries: readonly { name: string; sha256: string }[]): string {
  return entries.map((e) => `SHA256(${e.name})= ${e.sha256}\n`).join("");
}

/** Checks a manifest: one well-formed line per file, every `expected` file listed with its digest. */
export function checkManifest(text: string, expected: readonly { name: string; sha256: string }[]): string[] {
  const problems: string[] = [];
  const listed = new Map<string, string>();
  for (const line of text.split("\n").filter((l) => l.trim())) {
    const m = /^SHA256\((.+)\)= ([0-9a-f]{64})$/.exec(line);
    if (!m) { problems.push(`manifest line is not "SHA256(file)= hex": ${line}`); continue; }
    if (listed.has(m[1]!)) problems.push(`manifest lists ${m[1]} twice`);
    listed.set(m[1]!, m[2]!);
  }
  for (const e of expected) {
    const got = listed.get(e.name);
    if (!got) problems.push(`manifest does not list ${e.name}`);
    else if (got !== e.sha256) problems.push(`manifest digest of ${e.name} is ${got}, the file's is ${e.sha256}`);
  }
  for (const name of listed.keys()) if (!expected.some((e) => e.name === name)) problems.push(`manifest lists ${name}, which is not in the package`);
  return problems;
}
