/** `timezone` and `locale`: the machine's time zone and default locale. */
import type { ProvisionerSpec } from "../lang/provisioner.js";
import { badOption, type ComponentOptions } from "./options.js";
import { quote, Script } from "./script.js";

/**
 * Sets the time zone: `/etc/localtime` → `/usr/share/zoneinfo/<zone>` and `/etc/timezone`
 * (Debian's record; also read by many tools). Needs the zone data (`tzdata`); the script says
 * so when it is missing. Idempotent.
 *
 * @param zone An IANA zone name, e.g. `"Europe/Paris"` or `"UTC"`.
 * @example
 * timezone("Europe/Paris")
 */
export function timezone(zone: string, options: ComponentOptions = {}): ProvisionerSpec {
  if (typeof zone !== "string" || !/^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/.test(zone)) {
    badOption("timezone", `${JSON.stringify(zone)} is not a time zone name`, "use an IANA name such as \"Europe/Paris\" or \"UTC\"");
  }
  const s = new Script("timezone");
  s.add(
    `zone=${quote(zone)}`,
    "data=/usr/share/zoneinfo/$zone",
    "[ -f \"$data\" ] || die \"no zone data for $zone at $data: install tzdata first (packages.install([\\\"tzdata\\\"]))\"",
    "ln -sfn \"$data\" /etc/localtime",
    "echo \"$zone\" > /etc/timezone",
    "echo \"imgc timezone: $zone\"",
  );
  return s.toProvisioner(options);
}

/** Options of `locale`. */
export interface LocaleOptions extends ComponentOptions {
  /**
   * Other locales to generate besides the default one.
   * @example locale("en_US.UTF-8", { also: ["fr_FR.UTF-8"] })
   */
  readonly also?: readonly string[];
}

const LOCALE = /^[A-Za-z]{1,8}(_[A-Za-z0-9]{2,8})?(\.[A-Za-z0-9-]+)?(@[A-Za-z0-9]+)?$/;

/**
 * Sets the default locale (`LANG`). On Debian and Ubuntu it enables the locale in
 * /etc/locale.gen, runs `locale-gen` (install the `locales` package first; `C.UTF-8` needs
 * nothing) and writes /etc/default/locale; on RHEL-family machines it writes /etc/locale.conf
 * (install the matching `glibc-langpack-*`). Idempotent.
 *
 * @param name e.g. `"en_US.UTF-8"`, `"C.UTF-8"`.
 * @example
 * provision: [packages.install(["locales"]), locale("en_US.UTF-8")]
 */
export function locale(name: string, options: LocaleOptions = {}): ProvisionerSpec {
  const { also = [], ...common } = options;
  for (const l of [name, ...also]) if (typeof l !== "string" || !LOCALE.test(l)) badOption("locale", `${JSON.stringify(l)} is not a locale name`, "e.g. \"en_US.UTF-8\"");
  const s = new Script("locale");
  s.add(
    `lang=${quote(name)}`,
    // Generate each (except the built-in C/POSIX ones), as locale-gen reads /etc/locale.gen.
    `for l in ${[name, ...also].map(quote).join(" ")}; do`,
    "  case $l in C|C.*|POSIX) continue ;; esac",
    "  if [ -f /etc/locale.gen ] || has locale-gen; then",
    "    has locale-gen || die \"locale-gen is missing: install the locales package first (packages.install([\\\"locales\\\"]))\"",
    "    charset=${l#*.}; [ \"$charset\" = \"$l\" ] && charset=ISO-8859-1",
    // /etc/locale.gen lists `en_US.UTF-8 UTF-8`; uncomment it, or add it when absent.
    "    if grep -Eq \"^#? *$l $charset\\$\" /etc/locale.gen 2>/dev/null; then sed -i \"s/^# *\\($l $charset\\)\\$/\\1/\" /etc/locale.gen; else echo \"$l $charset\" >> /etc/locale.gen; fi",
    // Already generated (locale -a prints en_US.utf8 for en_US.UTF-8): nothing to do.
    "    norm=$(echo \"$l\" | sed 's/UTF-8$/utf8/; s/utf-8$/utf8/')",
    "    locale -a 2>/dev/null | grep -qx \"$norm\" || gen=1",
    "  elif has localedef; then",
    "    locale -a 2>/dev/null | grep -qix \"$(echo \"$l\" | sed 's/UTF-8/utf8/I')\" || die \"locale $l is not available: install its language pack (e.g. glibc-langpack-${l%%_*})\"",
    "  else die \"no locale tools on this machine (locale-gen or localedef)\"",
    "  fi",
    "done",
    "if [ \"${gen:-0}\" = 1 ]; then locale-gen; fi",
    // Debian and Ubuntu read /etc/default/locale; systemd-based others /etc/locale.conf; Alpine's
    // login shells /etc/profile.d.
    "if [ -f /etc/debian_version ]; then mkdir -p /etc/default; echo \"LANG=$lang\" > /etc/default/locale",
    "else echo \"LANG=$lang\" > /etc/locale.conf",
    "fi",
    "if [ -f /etc/alpine-release ]; then mkdir -p /etc/profile.d; echo \"export LANG=$lang\" > /etc/profile.d/imgc-locale.sh; fi",
    "echo \"imgc locale: LANG=$lang\"",
  );
  return s.toProvisioner(common);
}
