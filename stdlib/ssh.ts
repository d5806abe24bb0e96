/**
 * `ssh.harden`: an OpenSSH server configuration without root login or passwords, with chosen
 * ciphers, MACs and key exchanges. Written as a drop-in (`/etc/ssh/sshd_config.d/01-imgc-harden.conf`)
 * where sshd_config includes that directory (Debian 12, Ubuntu 20.04+, RHEL 9), otherwise as a
 * marked block at the top of sshd_config (replaced on every run, so it is idempotent). sshd
 * takes the first value it reads for a keyword, so both places win over the distribution's
 * defaults. The result is checked with `sshd -t` when sshd is installed.
 */
import type { ProvisionerSpec } from "../lang/provisioner.js";
import { badOption, type ComponentOptions } from "./options.js";
import { quote, Script } from "./script.js";

/** Options of `ssh.harden`. */
export interface HardenOptions extends ComponentOptions {
  /**
   * `PermitRootLogin`: `"no"`, or `"prohibit-password"` to keep key logins for root.
   * @default "no"
   * @example ssh.harden({ permitRootLogin: "prohibit-password" })
   */
  readonly permitRootLogin?: "no" | "prohibit-password";
  /**
   * Allow password (and keyboard-interactive) logins.
   * @default false
   * @example ssh.harden({ passwordAuthentication: true })
   */
  readonly passwordAuthentication?: boolean;
  /**
   * `Ciphers`. @default ["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes128-gcm@openssh.com", "aes256-ctr", "aes192-ctr", "aes128-ctr"]
   * @example ssh.harden({ ciphers: ["chacha20-poly1305@openssh.com"] })
   */
  readonly ciphers?: readonly string[];
  /**
   * `MACs`. @default ["hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "umac-128-etm@openssh.com"]
   * @example ssh.harden({ macs: ["hmac-sha2-256-etm@openssh.com"] })
   */
  readonly macs?: readonly string[];
  /**
   * `KexAlgorithms`. @default ["sntrup761x25519-sha512@openssh.com", "curve25519-sha256", "curve25519-sha256@libssh.org", "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512"]
   * @example ssh.harden({ kexAlgorithms: ["curve25519-sha256"] })
   */
  readonly kexAlgorithms?: readonly string[];
  /**
   * Only these users may log in (`AllowUsers`). @default everyone
   * @example ssh.harden({ allowUsers: ["deploy"] })
   */
  readonly allowUsers?: readonly string[];
  /**
   * Only members of these groups may log in (`AllowGroups`). @default everyone
   * @example ssh.harden({ allowGroups: ["ssh-users"] })
   */
  readonly allowGroups?: readonly string[];
  /**
   * `MaxAuthTries`. @default 3
   * @example ssh.harden({ maxAuthTries: 5 })
   */
  readonly maxAuthTries?: number;
  /**
   * `X11Forwarding`. @default false
   * @example ssh.harden({ x11Forwarding: true })
   */
  readonly x11Forwarding?: boolean;
  /**
   * Other sshd keywords, verbatim (validated by `sshd -t`).
   * @example ssh.harden({ extra: { ClientAliveInterval: "300", AllowTcpForwarding: "no" } })
   */
  readonly extra?: Readonly<Record<string, string>>;
}

const WORD = /^[A-Za-z0-9@._+,*?!-]+$/;

/** The sshd_config lines for these options. */
export function hardenedConfig(options: HardenOptions): string[] {
  const list = (what: string, values: readonly string[]): string => {
    if (values.length === 0) badOption("ssh.harden", `${what} must not be empty`);
    for (const v of values) if (!WORD.test(v)) badOption("ssh.harden", `${what} entry ${JSON.stringify(v)} is not a valid name`);
    return values.join(what === "allowUsers" || what === "allowGroups" ? " " : ",");
  };
  const permit = options.permitRootLogin ?? "no";
  if (permit !== "no" && permit !== "prohibit-password") badOption("ssh.harden", `permitRootLogin ${JSON.stringify(permit)} must be "no" or "prohibit-password"`);
  const tries = options.maxAuthTries ?? 3;
  if (!Number.isInteger(tries) || tries < 1) badOption("ssh.harden", `maxAuthTries ${tries} must be a positive integer`);
  const password = options.passwordAuthentication ? "yes" : "no";
  const lines = [
    `PermitRootLogin ${permit}`,
    `PasswordAuthentication ${password}`,
    `KbdInteractiveAuthentication ${password}`,
    "PermitEmptyPasswords no",
    "PubkeyAuthentication yes",
    `MaxAuthTries ${tries}`,
    `X11Forwarding ${options.x11Forwarding ? "yes" : "no"}`,
    `Ciphers ${list("ciphers", options.ciphers ?? ["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes128-gcm@openssh.com", "aes256-ctr", "aes192-ctr", "aes128-ctr"])}`,
    `MACs ${list("macs", options.macs ?? ["hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "umac-128-etm@openssh.com"])}`,
    `KexAlgorithms ${list("kexAlgorithms", options.kexAlgorithms ?? ["sntrup761x25519-sha512@openssh.com", "curve25519-sha256", "curve25519-sha256@libssh.org", "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512"])}`,
  ];
  if (options.allowUsers) lines.push(`AllowUsers ${list("allowUsers", options.allowUsers)}`);
  if (options.allowGroups) lines.push(`AllowGroups ${list("allowGroups", options.allowGroups)}`);
  for (const [key, value] of Object.entries(options.extra ?? {})) {
    if (!/^[A-Za-z]+$/.test(key) || /[\r\n]/.test(value) || value.trim() === "") badOption("ssh.harden", `extra ${JSON.stringify(key)}: keywords are letters only and values single non-empty lines`);
    lines.push(`${key} ${value}`);
  }
  return lines;
}

/**
 * Hardens the OpenSSH server. Install `openssh-server` first; the script fails clearly if
 * `/etc/ssh/sshd_config` is missing.
 *
 * @example
 * provision: [packages.install(["openssh-server"]), ssh.harden()]
 * @example
 * ssh.harden({ permitRootLogin: "prohibit-password", allowUsers: ["deploy"], ciphers: ["chacha20-poly1305@openssh.com"] })
 */
export function harden(options: HardenOptions = {}): ProvisionerSpec {
  const component = "ssh.harden";
  const { permitRootLogin: _a, passwordAuthentication: _b, ciphers: _c, macs: _d, kexAlgorithms: _e, allowUsers: _f, allowGroups: _g, maxAuthTries: _h, x11Forwarding: _i, extra: _j, ...common } = options;
  const config = hardenedConfig(options);
  const block = ["# BEGIN imgc ssh.harden (managed: rewritten on every build)", ...config, "# END imgc ssh.harden"];
  const s = new Script(component);
  s.add(
    "conf=/etc/ssh/sshd_config",
    "[ -f \"$conf\" ] || die \"$conf not found: install the OpenSSH server first (packages.install([\\\"openssh-server\\\"]))\"",
    `block=${quote(block.join("\n") + "\n")}`,
    // Drop the block a previous run wrote into sshd_config, if any.
    "if grep -q '^# BEGIN imgc ssh.harden' \"$conf\"; then",
    "  awk '/^# BEGIN imgc ssh.harden/ {skip=1} !skip {print} /^# END imgc ssh.harden/ {skip=0}' \"$conf\" > \"$conf.imgc\"; cat \"$conf.imgc\" > \"$conf\"; rm -f \"$conf.imgc\"",
    "fi",
    "if grep -Eqi '^[[:space:]]*Include[[:space:]]+/etc/ssh/sshd_config\\.d/\\*\\.conf' \"$conf\"; then",
    "  mkdir -p /etc/ssh/sshd_config.d",
    "  target=/etc/ssh/sshd_config.d/01-imgc-harden.conf",
    "  printf '%s' \"$block\" > \"$target\"; chmod 644 \"$target\"",
    "else",
    "  target=$conf",
    "  { printf '%s' \"$block\"; cat \"$conf\"; } > \"$conf.imgc\"; cat \"$conf.imgc\" > \"$conf\"; rm -f \"$conf.imgc\"",
    "fi",
    "echo \"imgc ssh.harden: wrote $target\"",
    // sshd -t needs a host key and its privilege separation directory; use a throwaway key when
    // the image has none yet (cleanup.forImage removes them anyway).
    "sshd_bin=$(command -v sshd || { [ -x /usr/sbin/sshd ] && echo /usr/sbin/sshd; } || true)",
    "if [ -n \"$sshd_bin\" ]; then",
    "  mkdir -p /run/sshd",
    "  if ls /etc/ssh/ssh_host_*_key >/dev/null 2>&1; then \"$sshd_bin\" -t || die \"sshd rejected the configuration (see above)\"",
    "  else",
    "    tmp=$(mktemp -d); ssh-keygen -q -t ed25519 -N '' -f \"$tmp/key\"",
    "    \"$sshd_bin\" -t -h \"$tmp/key\" || { rm -rf \"$tmp\"; die \"sshd rejected the configuration (see above)\"; }",
    "    rm -rf \"$tmp\"",
    "  fi",
    "else echo \"imgc ssh.harden: sshd is not installed; the configuration was written but not checked\"",
    "fi",
  );
  return s.toProvisioner(common);
}
