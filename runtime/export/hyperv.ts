/**
 * Hyper-V export: a directory `<name>-hyperv/` with `Virtual Hard Disks/<name>.vhdx` (dynamic)
 * and `import.ps1`, a PowerShell script that creates the VM around it (`New-VM … -VHDPath`,
 * generation 1 or 2, CPUs, memory, switch) — the layout Hyper-V users import.
 */
import { mkdir, writeFile } from "node:fs/promises";
import type { ExportImpl } from "./types.js";
import { exportError } from "./support/errors.js";
import { convert } from "./support/qemu-img.js";
import { runExport } from "./support/run.js";
import { hardware } from "./support/settings.js";
import { checkVhdx } from "./support/vhdx.js";

/** A PowerShell single-quoted string literal (a quote is doubled; nothing else is special). */
export function psString(s: string): string {
  return `'${s.replace(/['\u2018\u2019\u201a\u201b]/g, "$&$&")}'`;
}

/** The import script. */
export function importScript(o: { name: string; vhdx: string; generation: 1 | 2; cpus: number; memoryMiB: number; switchName: string; secureBoot: boolean }): string {
  const lines = [
    "# Creates the Hyper-V VM around the exported disk. Run in an elevated PowerShell:",
    "#   powershell -ExecutionPolicy Bypass -File import.ps1 [-Name <vm name>] [-SwitchName <switch>]",
    "[CmdletBinding()]",
    "param(",
    `  [string]$Name = ${psString(o.name)},`,
    `  [string]$SwitchName = ${psString(o.switchName)}`,
    ")",
    "$ErrorActionPreference = 'Stop'",
    `$vhd = Join-Path $PSScriptRoot ${psString(`Virtual Hard Disks\\${o.vhdx}`)}`,
    `$vm = New-VM -Name $Name -Generation ${o.generation} -MemoryStartupBytes ${o.memoryMiB}MB -VHDPath $vhd -SwitchName $SwitchName`,
    `Set-VMProcessor -VM $vm -Count ${o.cpus}`,
    "Set-VMMemory -VM $vm -DynamicMemoryEnabled $false",
    ...(o.generation === 2
      ? o.secureBoot
        ? ["Set-VMFirmware -VM $vm -EnableSecureBoot On -SecureBootTemplate 'MicrosoftUEFICertificateAuthority'"]
        : ["Set-VMFirmware -VM $vm -EnableSecureBoot Off"]
      : []),
    "Write-Output \"Created VM $Name\"",
  ];
  return lines.join("\r\n") + "\r\n";
}

/** The `export-hyperv` post-processor. */
export const hyperv: ExportImpl<"hyperv"> = {
  type: "export-hyperv",
  run: (artifact, options, ctx) =>
    runExport("hyperv", artifact, options, ctx, async ({ source, name, staging }) => {
      const generation = options.generation ?? 1;
      if (generation !== 1 && generation !== 2) throw exportError(`generation must be 1 or 2, got ${JSON.stringify(generation)}`);
      if (options.secureBoot && generation !== 2) throw exportError("secureBoot needs generation 2");
      const switchName = options.switchName ?? "Default Switch";
      if (typeof switchName !== "string" || !switchName || /[\r\n]/.test(switchName)) throw exportError("switchName must be a non-empty single-line string");
      const hw = hardware({ ...options, firmware: generation === 2 ? "efi" : "bios" }, name, "00155D");
      if (source.virtualSize % 512 !== 0) throw exportError(`the disk's size ${source.virtualSize} is not a whole number of 512-byte sectors`);
      const dir = `${name}-hyperv`;
      const vhdxName = `${name}.vhdx`;
      await mkdir(staging.file(dir, "Virtual Hard Disks"), { recursive: true });
      const vhdx = staging.file(dir, "Virtual Hard Disks", vhdxName);
      await convert(source, { path: vhdx, format: "vhdx", options: ["subformat=dynamic"] }, ctx.signal);
      const problems = await checkVhdx(vhdx, source.virtualSize);
      await writeFile(staging.file(dir, "import.ps1"), importScript({ name, vhdx: vhdxName, generation, cpus: hw.cpus, memoryMiB: hw.memory, switchName, secureBoot: options.secureBoot ?? false }));
      return {
        entries: [dir],
        main: dir,
        virtualSize: source.virtualSize,
        details: { vhdx: `Virtual Hard Disks/${vhdxName}`, script: "import.ps1", generation },
        problems,
      };
    }),
};
