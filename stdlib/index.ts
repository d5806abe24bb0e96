/**
 * imgc's standard library (`imgc/stdlib`): typed, reusable image components. Each is a plain
 * function returning provisioners (`shell`, `file` from `imgc/provisioners`), so it is hashed
 * into the node's cache key, logged and redacted like anything else, and a component library
 * of your own is just an npm package of such functions.
 *
 * @example
 * import { packages, users, files, services, ssh, cleanup } from "imgc/stdlib";
 * provision: [
 *   packages.install(["nginx", "openssh-server"]),
 *   users.add("deploy", { shell: "/bin/bash", sudoer: true, authorizedKeys: [key] }),
 *   files.put("/etc/nginx/conf.d/app.conf", { source: "./app.conf" }),
 *   services.enable("nginx"),
 *   ssh.harden(),
 *   cleanup.forImage(),
 * ]
 */
import * as packagesModule from "./packages.js";
import * as usersModule from "./users.js";
import * as filesModule from "./files.js";
import * as servicesModule from "./services.js";
import * as sshModule from "./ssh.js";
import * as cleanupModule from "./cleanup.js";

/** Package installs, removals and upgrades for apt, dnf, yum and apk (detected on the machine). */
export const packages = { install: packagesModule.install, remove: packagesModule.remove, upgrade: packagesModule.upgrade };
/** User accounts: groups, shell, sudo rule, SSH authorized keys. */
export const users = { add: usersModule.add };
/** Files from content, local files or templates, with owner and mode. */
export const files = { put: filesModule.put };
/** systemd units enabled at boot, optionally written from typed options. */
export const services = { enable: servicesModule.enable, disable: servicesModule.disable };
/** OpenSSH server hardening. */
export const ssh = { harden: sshModule.harden };
/** Clean-up before the machine becomes an image. */
export const cleanup = { forImage: cleanupModule.forImage };

export { apt, dnf, yum, apk } from "./packages.js";
export { timezone, locale } from "./system.js";
export { reboot } from "./reboot.js";
export { renderServiceUnit } from "./systemd-unit.js";
export { fillTemplate } from "./files.js";
export { quote, Script, SUDO_EXECUTE } from "./script.js";

export type { PackageManager, PackageOptions, InstallOptions, RemoveOptions, UpgradeOptions, FixedManagerPackages } from "./packages.js";
export type { UserOptions, SudoRule } from "./users.js";
export type { PutOptions, FileSource, TemplateValue } from "./files.js";
export type { EnableOptions, DisableOptions } from "./services.js";
export type { ServiceUnit } from "./systemd-unit.js";
export type { HardenOptions } from "./ssh.js";
export type { ForImageOptions } from "./cleanup.js";
export type { LocaleOptions } from "./system.js";
export type { RebootOptions } from "./reboot.js";
export type { ComponentOptions } from "./options.js";
