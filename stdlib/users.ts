/**
 * `users.add`: a user account with its groups, login shell, sudo rule and SSH authorized keys.
 * Uses useradd/usermod/groupadd where the machine has them (Debian, Ubuntu, RHEL, Alpine with
 * `shadow`); elsewhere (busybox images, Alpine without `shadow`) it edits /etc/passwd, /etc/group
 * and /etc/shadow itself, as those tools do. Running it again updates the account in place.
 */
import { isRef, type Input } from "../lang/values.js";
import type { ProvisionerSpec } from "../lang/provisioner.js";
import { badOption, type ComponentOptions } from "./options.js";
import { quote, Script } from "./script.js";

/** A sudo rule for the user. */
export interface SudoRule {
  /**
   * No password asked (images usually have none set).
   * @default true
   * @example users.add("ops", { sudoer: { nopasswd: false } })
   */
  readonly nopasswd?: boolean;
  /**
   * Commands allowed, as sudoers command specs.
   * @default ["ALL"]
   * @example users.add("deploy", { sudoer: { commands: ["/usr/bin/systemctl restart app"] } })
   */
  readonly commands?: readonly string[];
}

/** Options of `users.add`. */
export interface UserOptions extends ComponentOptions {
  /**
   * Numeric user id. @default the next free one (system range with `system: true`)
   * @example users.add("app", { uid: 1500 })
   */
  readonly uid?: number;
  /**
   * Primary group, created when missing. @default a group named after the user
   * @example users.add("app", { group: "apps" })
   */
  readonly group?: string;
  /**
   * Supplementary groups, created when missing; the user is added to each (never removed from others).
   * @example users.add("deploy", { groups: ["docker", "adm"] })
   */
  readonly groups?: readonly string[];
  /**
   * Login shell; it must exist on the machine. @default the system's default (`/bin/sh` on Debian)
   * @example users.add("dev", { shell: "/bin/bash" })
   */
  readonly shell?: string;
  /**
   * Home directory. @default `/home/<name>`
   * @example users.add("svc", { home: "/srv/svc" })
   */
  readonly home?: string;
  /**
   * Create the home directory (copying /etc/skel where present).
   * @default true
   * @example users.add("svc", { createHome: false })
   */
  readonly createHome?: boolean;
  /**
   * A system account (uid below 1000, no ageing).
   * @default false
   * @example users.add("prometheus", { system: true, shell: "/usr/sbin/nologin" })
   */
  readonly system?: boolean;
  /**
   * Full name (GECOS).
   * @example users.add("ada", { comment: "Ada Lovelace" })
   */
  readonly comment?: string;
  /**
   * A sudo rule in `/etc/sudoers.d/90-imgc-<name>` (checked with `visudo -c` where present):
   * `true` for passwordless sudo to everything. Install `sudo` itself with `packages.install`.
   * @default no rule
   * @example users.add("deploy", { sudoer: true })
   */
  readonly sudoer?: boolean | SudoRule;
  /**
   * Public keys added to `~/.ssh/authorized_keys` (kept if already there; the file and directory
   * get modes 600 and 700 and the user's ownership).
   * @example users.add("deploy", { authorizedKeys: ["ssh-ed25519 AAAAC3Nz... deploy@laptop"] })
   */
  readonly authorizedKeys?: readonly Input<string>[];
  /**
   * Replace `authorized_keys` with exactly `authorizedKeys` instead of adding to it.
   * @default false
   * @example users.add("deploy", { authorizedKeys: [key], exclusiveKeys: true })
   */
  readonly exclusiveKeys?: boolean;
}

const NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

function checkName(what: string, name: unknown): string {
  if (typeof name !== "string" || !NAME.test(name)) {
    badOption("users.add", `${what} ${JSON.stringify(name)} is not a valid name`, "use lower-case letters, digits, _ and -, starting with a letter or _, at most 32 characters");
  }
  return name as string;
}

/**
 * Adds a user (or updates it when it exists: shell, comment, groups, keys, sudo rule).
 *
 * @param name Login name, e.g. `"deploy"`.
 * @example
 * users.add("deploy", {
 *   shell: "/bin/bash",
 *   groups: ["adm"],
 *   sudoer: true,
 *   authorizedKeys: [readFileSync("./deploy.pub", "utf8")],
 * })
 */
export function add(name: string, options: UserOptions = {}): ProvisionerSpec {
  const component = "users.add";
  checkName("user name", name);
  const { uid, group, groups = [], shell, home = `/home/${name}`, createHome = true, system = false, comment, sudoer, authorizedKeys, exclusiveKeys = false, ...common } = options;
  if (uid !== undefined && (!Number.isInteger(uid) || uid < 0 || uid > 4294967294)) badOption(component, `uid ${uid} is not a valid user id`);
  if (group !== undefined) checkName("group", group);
  groups.forEach((g) => checkName("group", g));
  if (shell !== undefined && !/^\/[^\s:]*$/.test(shell)) badOption(component, `shell ${JSON.stringify(shell)} must be an absolute path`);
  if (!/^\/[^\s:]*$/.test(home)) badOption(component, `home ${JSON.stringify(home)} must be an absolute path without spaces or colons`);
  if (comment !== undefined && /[:\n]/.test(comment)) badOption(component, "comment must not contain ':' or a line break");
  for (const key of authorizedKeys ?? []) {
    if (!isRef(key) && (typeof key !== "string" || /[\r\n]/.test(key.trim()) || key.trim() === "")) {
      badOption(component, "each authorized key must be one non-empty line", "pass one key per list entry");
    }
  }
  const rule = sudoer === true ? {} : sudoer === false || sudoer === undefined ? undefined : sudoer;
  for (const command of rule?.commands ?? []) if (/[\n]/.test(command)) badOption(component, "sudo commands must be single lines");

  const s = new Script(component);
  s.add(
    `name=${quote(name)}`,
    `home=${quote(home)}`,
    ...(shell ? [`shell=${quote(shell)}`, `[ -x "$shell" ] || die "login shell $shell does not exist on this machine; install it first or pick another"`] : []),
    // Does a line for $2 exist in file $1 (passwd, group)?
    "entry() { grep -q \"^$2:\" \"$1\"; }",
    // Rewrites a file in place (keeps its inode, mode and owner).
    "rewrite() { cat \"$1.imgc\" > \"$1\"; rm -f \"$1.imgc\"; }",
    // Next free id in [lo, hi) of field 3 of a file.
    "next_id() { awk -F: -v lo=\"$2\" -v hi=\"$3\" 'BEGIN{m=lo-1} $3>m && $3<hi {m=$3} END{print m+1}' \"$1\"; }",
    `if [ ${system ? "1" : "0"} = 1 ]; then lo=100; hi=1000; else lo=1000; hi=60000; fi`,
    "ensure_group() {",
    "  entry /etc/group \"$1\" && return 0",
    `  if has groupadd; then groupadd ${system ? "-r " : ""}\${2:+-g "$2"} "$1"; return; fi`,
    "  gid=${2:-$(next_id /etc/group $lo $hi)}",
    "  echo \"$1:x:$gid:\" >> /etc/group",
    "  if [ -f /etc/gshadow ]; then echo \"$1:!::\" >> /etc/gshadow; fi",
    "}",
    // Adds the user to a group's member list (field 4) without tools.
    "add_member() {",
    "  for f in /etc/group /etc/gshadow; do",
    "    [ -f \"$f\" ] || continue",
    "    awk -F: -v OFS=: -v g=\"$1\" -v u=\"$name\" '$1==g { n=split($4,m,\",\"); f=0; for(i=1;i<=n;i++) if(m[i]==u) f=1; if(!f) $4=($4==\"\" ? u : $4\",\"u) } {print}' \"$f\" > \"$f.imgc\"",
    "    rewrite \"$f\"",
    "  done",
    "}",
  );
  // The primary group: named, or the user's own.
  s.add(group ? `primary=${quote(group)}; ensure_group "$primary"` : `primary="$name"`);
  for (const g of groups) s.add(`ensure_group ${quote(g)}`);
  const groupList = groups.join(",");

  s.add(
    "if ! entry /etc/passwd \"$name\"; then",
    "  if has useradd; then",
    `    set -- ${system ? "-r" : ""} ${createHome ? "-m" : "-M"} -d "$home"`,
    uid !== undefined ? `    set -- "$@" -u ${uid}` : "    :",
    group ? "    set -- \"$@\" -g \"$primary\"" : "    if entry /etc/group \"$name\"; then set -- \"$@\" -g \"$name\"; else set -- \"$@\" -U; fi",
    groupList ? `    set -- "$@" -G ${quote(groupList)}` : "    :",
    shell ? "    set -- \"$@\" -s \"$shell\"" : "    :",
    comment !== undefined ? `    set -- "$@" -c ${quote(comment)}` : "    :",
    "    useradd \"$@\" \"$name\"",
    "  else",
    // No shadow tools: write the entries the way useradd would.
    `    uid=${uid ?? "$(next_id /etc/passwd $lo $hi)"}`,
    // The user's own group takes the uid as gid when that gid is free, as useradd does.
    group ? "    :" : "    entry /etc/group \"$name\" || { if awk -F: -v g=\"$uid\" '$3==g {f=1} END {exit f}' /etc/group; then ensure_group \"$name\" \"$uid\"; else ensure_group \"$name\"; fi; }",
    "    gid=$(awk -F: -v g=\"$primary\" '$1==g {print $3}' /etc/group)",
    `    echo "$name:x:$uid:$gid:${comment ?? ""}:$home:${shell ?? "/bin/sh"}" >> /etc/passwd`,
    "    if [ -f /etc/shadow ]; then echo \"$name:!:$(( $(date +%s) / 86400 )):0:99999:7:::\" >> /etc/shadow; fi",
    `    if [ ${createHome ? 1 : 0} = 1 ] && [ ! -d "$home" ]; then`,
    "      mkdir -p \"$home\"",
    "      if [ -d /etc/skel ]; then cp -a /etc/skel/. \"$home\"/; fi",
    "      chown -R \"$uid:$gid\" \"$home\"; chmod 750 \"$home\"",
    "    fi",
    ...groups.map((g) => `    add_member ${quote(g)}`),
    "  fi",
    "else",
    "  echo \"imgc users.add: $name exists; updating it\"",
    "  if has usermod; then",
    shell ? "    usermod -s \"$shell\" \"$name\"" : "    :",
    comment !== undefined ? `    usermod -c ${quote(comment)} "$name"` : "    :",
    groupList ? `    usermod -a -G ${quote(groupList)} "$name"` : "    :",
    "  else",
    shell ? "    awk -F: -v OFS=: -v u=\"$name\" -v s=\"$shell\" '$1==u {$7=s} {print}' /etc/passwd > /etc/passwd.imgc; rewrite /etc/passwd" : "    :",
    ...groups.map((g) => `    add_member ${quote(g)}`),
    "  fi",
    "fi",
  );

  if (authorizedKeys && authorizedKeys.length > 0) {
    const keyWords = authorizedKeys.map((k) => (isRef(k) ? s.word(k) : quote(k.trim())));
    s.add(
      "home_dir=$(awk -F: -v u=\"$name\" '$1==u {print $6}' /etc/passwd)",
      "uid=$(id -u \"$name\"); gid=$(id -g \"$name\")",
      "mkdir -p \"$home_dir/.ssh\"",
      "keys=\"$home_dir/.ssh/authorized_keys\"",
      exclusiveKeys ? ": > \"$keys\"" : "touch \"$keys\"",
      `for key in ${keyWords.join(" ")}; do grep -qxF -- "$key" "$keys" || printf '%s\\n' "$key" >> "$keys"; done`,
      "chmod 700 \"$home_dir/.ssh\"; chmod 600 \"$keys\"",
      "chown \"$uid:$gid\" \"$home_dir/.ssh\" \"$keys\"",
    );
  }

  if (rule) {
    const commands = (rule.commands ?? ["ALL"]).join(", ");
    const line = `${name} ALL=(ALL) ${rule.nopasswd === false ? "" : "NOPASSWD: "}${commands}`;
    // sudo ignores files in sudoers.d whose names contain a dot, so the temporary one is inert.
    const file = `/etc/sudoers.d/90-imgc-${name}`;
    s.add(
      "mkdir -p /etc/sudoers.d; chmod 755 /etc/sudoers.d",
      `printf '%s\\n' ${quote(line)} > /etc/sudoers.d/.imgc-new`,
      "chmod 440 /etc/sudoers.d/.imgc-new",
      "if has visudo; then visudo -c -q -f /etc/sudoers.d/.imgc-new || { rm -f /etc/sudoers.d/.imgc-new; die \"visudo rejected the rule for $name\"; }; fi",
      `mv -f /etc/sudoers.d/.imgc-new ${quote(file)}`,
    );
  }
  return s.toProvisioner(common);
}
