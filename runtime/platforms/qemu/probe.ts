/**
 * Accelerator choice. `chooseAccelerator` is a pure function over an injectable probe, so both
 * branches are tested without a machine that has (or lacks) working KVM. The real probe
 * (`hostAcceleratorProbe`) checks that /dev/kvm opens, then starts a tiny VM under KVM whose
 * boot sector waits for two timer ticks, enters 32-bit protected mode and writes a marker to
 * the debug console: KVM is used only when that marker arrives within the bound. Some hosts
 * (nested virtualisation, sandboxes) expose a /dev/kvm that opens but runs guests very slowly
 * or hangs them; opening the device alone is not proof.
 */
import type { QemuAccelerator } from "./factory.js";

/** What the choice needs to know about the host; injectable for tests. */
export interface AcceleratorProbe {
  /** The host platform (`process.platform`). */
  readonly platform: NodeJS.Platform;
  /** True when /dev/kvm can be opened read-write. */
  kvmDeviceOpens(): Promise<boolean>;
  /** Starts a test VM under KVM; true when it ran to its marker within `timeoutMs`. */
  kvmTestStart(timeoutMs: number, signal: AbortSignal): Promise<boolean>;
}

/** The accelerator picked, and why (logged). */
export interface AcceleratorChoice {
  /** The value of QEMU's `-accel`. */
  readonly accel: "kvm" | "tcg" | "hvf" | "whpx";
  /** Why, in one sentence. */
  readonly reason: string;
  /** Set when the user gets less than they may have expected (TCG fallback). */
  readonly warning?: string;
}

/**
 * Picks the accelerator. An explicit choice is honoured as is (QEMU then fails clearly if it
 * cannot use it); `auto` tries KVM on Linux and falls back to TCG with a warning.
 */
export async function chooseAccelerator(requested: QemuAccelerator, probe: AcceleratorProbe, timeoutMs: number, signal: AbortSignal): Promise<AcceleratorChoice> {
  switch (requested) {
    case "kvm":
    case "hvf":
    case "whpx":
      return { accel: requested, reason: `accelerator "${requested}" was asked for` };
    case "tcg":
    case "none":
      return { accel: "tcg", reason: `accelerator "${requested}" was asked for (software emulation)` };
    case "auto":
      break;
  }
  if (probe.platform === "darwin") return { accel: "hvf", reason: "macOS: Hypervisor.framework" };
  if (probe.platform !== "linux") {
    return { accel: "tcg", reason: `no KVM on ${probe.platform}`, warning: `no hardware acceleration on ${probe.platform}: using TCG (software emulation), builds are slower` };
  }
  if (!(await probe.kvmDeviceOpens())) {
    return {
      accel: "tcg",
      reason: "/dev/kvm cannot be opened",
      warning: "KVM is not available (/dev/kvm missing or not writable): using TCG (software emulation), builds are slower",
    };
  }
  if (!(await probe.kvmTestStart(timeoutMs, signal))) {
    return {
      accel: "tcg",
      reason: `a test VM under KVM did not run to its marker within ${timeoutMs} ms`,
      warning: `/dev/kvm opens but a test VM under KVM did not start within ${timeoutMs} ms (nested or broken virtualisation): using TCG (software emulation)`,
    };
  }
  return { accel: "kvm", reason: "/dev/kvm opens and a test VM ran under KVM" };
}

/**
 * The probe's boot sector (i386, assembled from the source kept in test/platforms/qemu/
 * probe-boot.S): waits two BIOS timer ticks with `hlt` (interrupts work), loads a flat GDT,
 * enters protected mode, writes `IMGC-ACCEL-OK` to the debug console port 0x402, halts.
 */
const BOOT_CODE =
  "fa31c08ed88ed0bc007cfb8b1e6c0483c302f4a16c0439d872f8fa0f0116687c0f20c06683c8010f22c0ea2f7c080066b810008ed88ec08ed066ba0204be6e7c0000ac84c07403eeebf8f4ebfd8d76000000000000000000ffff0000009acf00ffff00000092cf001700507c0000494d47432d414343454c2d4f4b0a";

/** The marker the probe's guest writes when it ran. */
export const PROBE_MARKER = "IMGC-ACCEL-OK";

/** The 512-byte boot sector of the KVM test start. */
export function probeBootSector(): Buffer {
  const sector = Buffer.alloc(512);
  Buffer.from(BOOT_CODE, "hex").copy(sector);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

/** QEMU arguments of the test start (the boot sector and debug console files are given). */
export function probeArgs(bootSector: string, debugLog: string): string[] {
  return [
    "-accel", "kvm",
    "-machine", "pc",
    "-m", "16",
    "-nodefaults",
    "-display", "none",
    "-no-reboot",
    "-drive", `file=${bootSector},format=raw,if=ide,readonly=on`,
    "-chardev", `file,id=dbg,path=${debugLog}`,
    "-device", "isa-debugcon,iobase=0x402,chardev=dbg",
  ];
}
