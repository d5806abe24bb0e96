/**
 * `packages.install / remove / upgrade`: one component for apt (Debian, Ubuntu), dnf and yum
 * (Fedora, RHEL family) and apk (Alpine). The package manager is detected on the machine when
 * the script runs (or named with `manager`), so one definition serves every base image.
 */
import { isRef, type Input } from "../lang/values.js";
import type { ProvisionerSpec } from "../lang/provisioner.js";
import { badOption, type ComponentOptions } from "./options.js";
import { Script } from "./script.js";

/** The package managers the components drive. */
export type PackageManager = "apt" | "dnf" | "yum" | "apk";

/** Options of every `packages.*` component. */
export interface PackageOptions extends ComponentOptions {
  /**
   * Which package manager to use. `"auto"` picks the first present on the machine, in the order
   * apt-get, dnf, yum, apk; the script fails with a clear message when none is.
   * @default "auto"
   * @example packages.install(["curl"], { manager: "dnf" })
   */
  readonly manager?: PackageManager | "auto";
  /**
   * Refresh the package index (`apt-get update`, `dnf makecache`) before installing, only when
   * something is actually missing. Turn off when the index is known fresh.
   * @default true
   * @example packages.install(["curl"], { update: false })
   */
  readonly update?: boolean;
  /**
   * Remove downloaded packages and indexes afterwards (`apt-get clean` and `/var/lib/apt/lists`,
   * `dnf clean all`, `/var/cache/apk`), so the image does not carry them.
   * @default true
   * @example packages.install(["curl"], { cleanCache: false })
   */
  readonly cleanCache?: boolean;
}

/** Options of `packages.install`. */
export interface InstallOptions extends PackageOptions {
  /**
   * Also install recommended packages (apt `--install-recommends`; dnf `install_weak_deps`).
   * @default false
   * @example packages.install(["nginx"], { recommends: true })
   */
  readonly recommends?: boolean;
}

/** Options of `packages.remove`. */
export interface RemoveOptions extends PackageOptions {
  /**
   * Also delete configuration files (apt `purge`; other managers always do).
   * @default false
   * @example packages.remove(["exim4"], { purge: true })
   */
  readonly purge?: boolean;
  /**
   * Then remove dependencies nothing needs any more (`apt-get autoremove`, `dnf autoremove`).
   * @default true
   * @example packages.remove(["build-essential"], { autoremove: false })
   */
  readonly autoremove?: boolean;
}

/** Options of `packages.upgrade`. */
export interface UpgradeOptions extends PackageOptions {
  /**
   * Allow upgrades that add or remove packages (apt `dist-upgrade`; dnf and apk always may).
   * @default false
   * @example packages.upgrade({ full: true })
   */
  readonly full?: boolean;
}

// Package names and version pins: `nginx`, `nginx=1.22.1-9`, `python3-pip`, `libstdc++6`,
// `kernel-5.14*`. No spaces, quotes or shell syntax.
const NAME = /^[A-Za-z0-9][A-Za-z0-9+._:~=<>*@-]*$/;

function names(component: string, list: readonly Input<string>[] | Input<string>): Input<string>[] {
  const all = Array.isArray(list) ? [...(list as readonly Input<string>[])] : [list as Input<string>];
  if (all.length === 0) badOption(component, "the package list is empty", "name at least one package, e.g. [\"curl\"]");
  for (const name of all) {
    if (isRef(name)) continue;
    if (typeof name !== "string" || !NAME.test(name)) {
      badOption(component, `${JSON.stringify(name)} is not a package name`, "use names like \"curl\" or pins like \"nginx=1.22.1-9\"");
    }
  }
  return all;
}

function checkManager(component: string, manager: unknown): PackageManager | "auto" {
  const known = ["auto", "apt", "dnf", "yum", "apk"];
  if (manager === undefined) return "auto";
  if (typeof manager !== "string" || !known.includes(manager)) {
    badOption(component, `manager ${JSON.stringify(manager)} is not one of ${known.join(", ")}`);
  }
  return manager as PackageManager | "auto";
}

/** Lines that set `$mgr` to the manager to use, or fail with the reason. */
function selectManager(s: Script, manager: PackageManager | "auto"): void {
  if (manager === "auto") {
    s.add(
      "if has apt-get; then mgr=apt; elif has dnf; then mgr=dnf; elif has yum; then mgr=yum; elif has apk; then mgr=apk; else",
      "  die \"no supported package manager on this machine (looked for apt-get, dnf, yum, apk in PATH=$PATH); install one in the base image or pick a base image that has one\"",
      "fi",
    );
  } else {
    const tool = manager === "apt" ? "apt-get" : manager;
    s.add(`mgr=${manager}`, `has ${tool} || die "the ${manager} package manager was asked for but ${tool} is not on this machine (PATH=$PATH)"`);
  }
  s.add(
    "export DEBIAN_FRONTEND=noninteractive",
    // Lists of names expand unquoted below; pins like `kernel-5.14*` must not glob.
    "set -f",
    // Is one package installed? Version pins (`name=1.2`) are checked by name.
    "installed() {",
    "  case $mgr in",
    "    apt) [ \"$(dpkg-query -W -f='${Status}' \"${1%%=*}\" 2>/dev/null)\" = 'install ok installed' ] ;;",
    "    dnf|yum) rpm -q --quiet \"$1\" ;;",
    "    apk) apk info -e \"${1%%=*}\" >/dev/null 2>&1 ;;",
    "  esac",
    "}",
  );
}

function cleanLines(s: Script): void {
  s.add(
    "set +f",
    "case $mgr in",
    "  apt) apt-get clean; rm -rf /var/lib/apt/lists/* ;;",
    "  dnf) dnf clean all >/dev/null; rm -rf /var/cache/dnf/* ;;",
    "  yum) yum clean all >/dev/null; rm -rf /var/cache/yum/* ;;",
    "  apk) rm -rf /var/cache/apk/* ;;",
    "esac",
  );
}

const APT_GET = "apt-get -q -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold";

/**
 * Installs packages, skipping those already installed (so a second run changes nothing and
 * needs no network). The index is refreshed only when something is missing.
 *
 * @param list Package names, optionally pinned (`"nginx=1.22.1-9"` for apt and apk).
 * @example
 * provision: [packages.install(["nginx", "curl"])]
 * @example
 * // RHEL family, keep the dnf cache for a later step
 * packages.install(["httpd"], { manager: "dnf", cleanCache: false })
 */
export function install(list: readonly Input<string>[] | Input<string>, options: InstallOptions = {}): ProvisionerSpec {
  const component = "packages.install";
  const pkgs = names(component, list);
  const manager = checkManager(component, options.manager);
  const { update = true, cleanCache = true, recommends = false, manager: _m, ...common } = options;
  const s = new Script(component);
  selectManager(s, manager);
  s.add(
    "missing=''",
    `for p in ${pkgs.map((p) => s.word(p)).join(" ")}; do installed "$p" || missing="$missing $p"; done`,
    "if [ -z \"$missing\" ]; then",
    `  echo "imgc ${component}: already installed: ${pkgs.filter((p) => !isRef(p)).join(" ")}"`,
    "else",
    "  case $mgr in",
    `    apt) ${update ? "apt-get -q update; " : ""}${APT_GET} install ${recommends ? "--install-recommends" : "--no-install-recommends"} $missing ;;`,
    `    dnf) dnf -y ${update ? "--refresh " : ""}--setopt=install_weak_deps=${recommends ? "True" : "False"} install $missing ;;`,
    `    yum) yum -y install $missing ;;`,
    `    apk) apk add ${update ? "--update-cache " : ""}$missing ;;`,
    "  esac",
    "fi",
  );
  if (cleanCache) cleanLines(s);
  return s.toProvisioner(common);
}

/**
 * Removes packages that are installed (absent ones are skipped, so it is idempotent).
 *
 * @example
 * packages.remove(["build-essential"], { purge: true })
 */
export function remove(list: readonly Input<string>[] | Input<string>, options: RemoveOptions = {}): ProvisionerSpec {
  const component = "packages.remove";
  const pkgs = names(component, list);
  const manager = checkManager(component, options.manager);
  const { cleanCache = true, purge = false, autoremove = true, update: _u, manager: _m, ...common } = options;
  const s = new Script(component);
  selectManager(s, manager);
  s.add(
    "present=''",
    `for p in ${pkgs.map((p) => s.word(p)).join(" ")}; do if installed "$p"; then present="$present $p"; fi; done`,
    "if [ -z \"$present\" ]; then",
    `  echo "imgc ${component}: not installed, nothing to remove"`,
    "else",
    "  case $mgr in",
    `    apt) ${APT_GET} ${purge ? "purge" : "remove"} $present ;;`,
    "    dnf) dnf -y remove $present ;;",
    "    yum) yum -y remove $present ;;",
    "    apk) apk del $present ;;",
    "  esac",
    "fi",
  );
  if (autoremove) {
    s.add(
      "case $mgr in",
      `  apt) ${APT_GET} autoremove ${purge ? "--purge" : ""} ;;`,
      "  dnf) dnf -y autoremove ;;",
      "  yum) yum -y autoremove ;;",
      "  apk) : ;;", // apk removes orphaned dependencies itself
      "esac",
    );
  }
  if (cleanCache) cleanLines(s);
  return s.toProvisioner(common);
}

/**
 * Upgrades every installed package to the newest version the repositories offer.
 *
 * @example
 * provision: [packages.upgrade(), packages.install(["nginx"])]
 * @example
 * packages.upgrade({ full: true }) // apt dist-upgrade
 */
export function upgrade(options: UpgradeOptions = {}): ProvisionerSpec {
  const component = "packages.upgrade";
  const manager = checkManager(component, options.manager);
  const { update = true, cleanCache = true, full = false, manager: _m, ...common } = options;
  const s = new Script(component);
  selectManager(s, manager);
  s.add(
    "case $mgr in",
    `  apt) ${update ? "apt-get -q update; " : ""}${APT_GET} ${full ? "dist-upgrade" : "upgrade"} ;;`,
    `  dnf) dnf -y ${update ? "--refresh " : ""}upgrade ;;`,
    "  yum) yum -y update ;;",
    `  apk) apk upgrade ${update ? "--update-cache" : ""} ;;`,
    "esac",
  );
  if (cleanCache) cleanLines(s);
  return s.toProvisioner(common);
}

/** The same components with the manager fixed, e.g. `apt.install(["nginx"])`. */
export interface FixedManagerPackages {
  /** Installs packages with this manager. @example apt.install(["nginx"]) */
  install(list: readonly Input<string>[] | Input<string>, options?: Omit<InstallOptions, "manager">): ProvisionerSpec;
  /** Removes packages with this manager. @example apt.remove(["exim4"], { purge: true }) */
  remove(list: readonly Input<string>[] | Input<string>, options?: Omit<RemoveOptions, "manager">): ProvisionerSpec;
  /** Upgrades every package with this manager. @example apt.upgrade() */
  upgrade(options?: Omit<UpgradeOptions, "manager">): ProvisionerSpec;
}

function fixed(manager: PackageManager): FixedManagerPackages {
  return {
    install: (list, options = {}) => install(list, { ...options, manager }),
    remove: (list, options = {}) => remove(list, { ...options, manager }),
    upgrade: (options = {}) => upgrade({ ...options, manager }),
  };
}

/** Packages with apt (Debian, Ubuntu). @example apt.install(["nginx"]) */
export const apt: FixedManagerPackages = fixed("apt");
/** Packages with dnf (Fedora, RHEL 8+). @example dnf.install(["httpd"]) */
export const dnf: FixedManagerPackages = fixed("dnf");
/** Packages with yum (RHEL 7, Amazon Linux 2). @example yum.install(["httpd"]) */
export const yum: FixedManagerPackages = fixed("yum");
/** Packages with apk (Alpine). @example apk.install(["nginx"]) */
export const apk: FixedManagerPackages = fixed("apk");
