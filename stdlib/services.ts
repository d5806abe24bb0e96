/**
 * `services.enable` / `services.disable`: systemd units enabled at boot. With `unit`, the unit
 * file is written from typed options first. Where systemctl exists it does the work (it
 * works offline, without a running systemd); where it does not (a minimal container), the
 * script creates the same symlinks `systemctl enable` would, from the unit's `[Install]`
 * section: `WantedBy=` → `<target>.wants/`, `RequiredBy=` → `<target>.requires/`, `Alias=`.
 */
import type { ProvisionerSpec } from "../lang/provisioner.js";
import { put } from "./files.js";
import { badOption, type ComponentOptions } from "./options.js";
import { quote, Script } from "./script.js";
import { renderServiceUnit, type ServiceUnit } from "./systemd-unit.js";

/** Options of `services.enable`. */
export interface EnableOptions extends ComponentOptions {
  /**
   * Write `/etc/systemd/system/<name>.service` from these options before enabling it.
   * @example services.enable("app", { unit: { description: "App", execStart: "/usr/local/bin/app" } })
   */
  readonly unit?: ServiceUnit;
  /**
   * Also start it now, when systemd is running on the machine (VMs; not containers).
   * @default false
   * @example services.enable("nginx", { now: true })
   */
  readonly now?: boolean;
  /**
   * Use only the built-in symlink logic even when systemctl exists (for tests and odd images).
   * @default false
   * @example services.enable("app", { offline: true })
   */
  readonly offline?: boolean;
}

const UNIT = /^[A-Za-z0-9:_.\\@-]+$/;
const SUFFIXES = [".service", ".socket", ".timer", ".path", ".target", ".mount", ".automount", ".swap", ".slice"];

/** `nginx` → `nginx.service`; names with a unit suffix are kept. */
export function unitName(name: string, component = "services.enable"): string {
  if (typeof name !== "string" || !UNIT.test(name)) badOption(component, `${JSON.stringify(name)} is not a unit name`, "e.g. \"nginx\" or \"backup.timer\"");
  return SUFFIXES.some((s) => name.endsWith(s)) ? name : `${name}.service`;
}

// Finds the unit file ($file) of $unit; template instances (a@b.service) use a@.service.
const FIND_UNIT = [
  "file=''",
  "case $unit in *@?*.*) tmpl=\"${unit%%@*}@.${unit##*.}\" ;; *) tmpl=\"$unit\" ;; esac",
  // systemd's search order; Debian's systemd looks in /lib before /usr/lib (and links there).
  "if [ -f /etc/debian_version ]; then lib='/lib/systemd/system /usr/lib/systemd/system'; else lib='/usr/lib/systemd/system /lib/systemd/system'; fi",
  "for d in /etc/systemd/system /run/systemd/system /usr/local/lib/systemd/system $lib; do",
  "  for f in \"$d/$unit\" \"$d/$tmpl\"; do if [ -f \"$f\" ] && [ -z \"$file\" ]; then file=$f; fi; done",
  "done",
  "[ -n \"$file\" ] || die \"no unit file for $unit in /etc/systemd/system, /usr/lib/systemd/system or /lib/systemd/system\"",
  // Values of one [Install] key, space-separated (keys may repeat).
  "install_key() { awk -v k=\"$1\" '/^[[:space:]]*\\[/ {s=$0; gsub(/[[:space:]]/, \"\", s)} s==\"[Install]\" && index($0, k\"=\")==1 {print substr($0, length(k)+2)}' \"$file\" | tr '\\n' ' '; }",
];

/**
 * Enables a systemd unit at boot (idempotent: enabling twice changes nothing).
 *
 * @param name Unit name; `.service` is added when there is no suffix.
 * @example
 * services.enable("nginx")
 * @example
 * services.enable("app", {
 *   unit: {
 *     description: "Example app",
 *     execStart: "/usr/local/bin/app --port 8080",
 *     user: "app",
 *     restart: "on-failure",
 *     environment: { PORT: "8080" },
 *   },
 * })
 */
export function enable(name: string, options: EnableOptions = {}): ProvisionerSpec[] {
  const component = "services.enable";
  const unit = unitName(name, component);
  const { unit: spec, now = false, offline = false, ...common } = options;
  const steps: ProvisionerSpec[] = [];
  if (spec) {
    if (!unit.endsWith(".service")) badOption(component, `a unit written from options is a service; name it without a suffix or with .service, not ${unit}`);
    steps.push(...put(`/etc/systemd/system/${unit}`, { content: renderServiceUnit(spec), mode: 0o644, ...common }));
  }
  const s = new Script(component);
  s.add(`unit=${quote(unit)}`);
  s.add(
    `if [ ${offline ? 1 : 0} = 0 ] && has systemctl; then`,
    "  if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi",
    `  systemctl enable ${now ? "$( [ -d /run/systemd/system ] && echo --now )" : ""} "$unit"`,
    "else",
    ...FIND_UNIT.map((l) => `  ${l}`),
    "  links=0",
    "  link() { mkdir -p \"$(dirname \"$2\")\"; if [ \"$(readlink \"$2\" 2>/dev/null)\" != \"$1\" ]; then ln -sfn \"$1\" \"$2\"; echo \"Created symlink $2 → $1.\"; fi; links=$((links + 1)); }",
    "  for t in $(install_key WantedBy); do link \"$file\" \"/etc/systemd/system/$t.wants/$unit\"; done",
    "  for t in $(install_key RequiredBy); do link \"$file\" \"/etc/systemd/system/$t.requires/$unit\"; done",
    "  for a in $(install_key Alias); do link \"$file\" \"/etc/systemd/system/$a\"; done",
    "  [ \"$links\" -gt 0 ] || echo \"imgc services.enable: $unit has no [Install] section (WantedBy=, RequiredBy=, Alias=); it is static and starts only when another unit pulls it in\"",
    "fi",
  );
  steps.push(s.toProvisioner(common));
  return steps;
}

/** Options of `services.disable`. */
export interface DisableOptions extends ComponentOptions {
  /**
   * Use only the built-in symlink logic even when systemctl exists.
   * @default false
   * @example services.disable("apt-daily.timer", { offline: true })
   */
  readonly offline?: boolean;
}

/**
 * Disables a unit at boot: removes its enablement symlinks (idempotent; an absent unit is fine).
 *
 * @example
 * services.disable("apt-daily.timer")
 */
export function disable(name: string, options: DisableOptions = {}): ProvisionerSpec {
  const component = "services.disable";
  const unit = unitName(name, component);
  const { offline = false, ...common } = options;
  const s = new Script(component);
  s.add(
    `unit=${quote(unit)}`,
    `if [ ${offline ? 1 : 0} = 0 ] && has systemctl; then`,
    "  systemctl disable \"$unit\" 2>&1 || true",
    "else",
    // Every link named after the unit in a .wants/.requires directory, and aliases pointing at it.
    "  find /etc/systemd/system -type l \\( -path \"*.wants/$unit\" -o -path \"*.requires/$unit\" \\) -print -exec rm -f {} +",
    "fi",
  );
  return s.toProvisioner(common);
}
