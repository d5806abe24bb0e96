/**
 * A systemd service unit written from typed options (the common `[Unit]`, `[Service]` and
 * `[Install]` keys), rendered to the INI text systemd reads.
 */
import type { Input } from "../lang/values.js";
import type { TemplatePart } from "../lang/template.js";
import { badOption } from "./options.js";
import { concat } from "./text.js";

/** Options of a service unit. See systemd.unit(5) and systemd.service(5). */
export interface ServiceUnit {
  /**
   * `Description=`, shown by `systemctl status`.
   * @example { description: "My web app" }
   */
  readonly description: string;
  /**
   * Command(s) to start the service (`ExecStart=`); an absolute path first. Several only with `type: "oneshot"`.
   * @example { execStart: "/usr/local/bin/app --port 8080" }
   */
  readonly execStart: Input<string> | readonly Input<string>[];
  /**
   * Commands run before `execStart` (`ExecStartPre=`).
   * @example { execStartPre: ["/usr/local/bin/app migrate"] }
   */
  readonly execStartPre?: readonly Input<string>[];
  /**
   * Command to reload the service (`ExecReload=`).
   * @example { execReload: "/bin/kill -HUP $MAINPID" }
   */
  readonly execReload?: Input<string>;
  /**
   * Command to stop it (`ExecStop=`). @default systemd sends SIGTERM
   * @example { execStop: "/usr/local/bin/app stop" }
   */
  readonly execStop?: Input<string>;
  /**
   * `Type=`. @default "simple"
   * @example { type: "oneshot", remainAfterExit: true }
   */
  readonly type?: "simple" | "exec" | "forking" | "oneshot" | "notify" | "idle";
  /**
   * `RemainAfterExit=` (for `oneshot`). @default false
   * @example { type: "oneshot", remainAfterExit: true }
   */
  readonly remainAfterExit?: boolean;
  /**
   * User the service runs as (`User=`). @default root
   * @example { user: "app" }
   */
  readonly user?: string;
  /**
   * Group the service runs as (`Group=`). @default the user's group
   * @example { user: "app", group: "app" }
   */
  readonly group?: string;
  /**
   * Working directory (`WorkingDirectory=`).
   * @example { workingDirectory: "/srv/app" }
   */
  readonly workingDirectory?: string;
  /**
   * Environment variables (`Environment=`, quoted). Values may be lazy.
   * @example { environment: { PORT: "8080", VERSION: version } }
   */
  readonly environment?: Readonly<Record<string, Input<string>>>;
  /**
   * Files of environment variables (`EnvironmentFile=`); a leading `-` makes one optional.
   * @example { environmentFile: ["-/etc/default/app"] }
   */
  readonly environmentFile?: readonly string[];
  /**
   * When to restart it (`Restart=`). @default "no"
   * @example { restart: "on-failure", restartSec: 5 }
   */
  readonly restart?: "no" | "always" | "on-success" | "on-failure" | "on-abnormal" | "on-abort" | "on-watchdog";
  /**
   * Seconds to wait before a restart (`RestartSec=`).
   * @example { restartSec: 5 }
   */
  readonly restartSec?: number;
  /**
   * Ordering: start after these units (`After=`).
   * @example { after: ["network-online.target"] }
   */
  readonly after?: readonly string[];
  /**
   * Ordering: start before these units (`Before=`).
   * @example { before: ["nginx.service"] }
   */
  readonly before?: readonly string[];
  /**
   * Weak dependencies (`Wants=`).
   * @example { wants: ["network-online.target"] }
   */
  readonly wants?: readonly string[];
  /**
   * Strong dependencies (`Requires=`).
   * @example { requires: ["postgresql.service"] }
   */
  readonly requires?: readonly string[];
  /**
   * Targets that pull it in when enabled (`WantedBy=`). @default ["multi-user.target"]
   * @example { wantedBy: ["graphical.target"] }
   */
  readonly wantedBy?: readonly string[];
  /**
   * Other keys, by section, for what the typed options do not cover.
   * @example { extra: { Service: { LimitNOFILE: "65536" } } }
   */
  readonly extra?: Readonly<Partial<Record<"Unit" | "Service" | "Install", Readonly<Record<string, string | readonly string[]>>>>>;
}

function escapeEnv(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
}

function oneLine(what: string, value: unknown): void {
  if (typeof value === "string" && /[\r\n]/.test(value)) badOption("services.enable", `${what} must be a single line`);
}

/** Renders a service unit's text (lazy when a value is). */
export function renderServiceUnit(unit: ServiceUnit): Input<string> {
  if (typeof unit.description !== "string" || unit.description === "") badOption("services.enable", "unit.description is required");
  const execStart = Array.isArray(unit.execStart) ? unit.execStart : [unit.execStart as Input<string>];
  if (execStart.length === 0) badOption("services.enable", "unit.execStart needs a command");
  if (execStart.length > 1 && unit.type !== "oneshot") badOption("services.enable", "several execStart commands need type: \"oneshot\"");
  const parts: TemplatePart[] = [];
  const line = (key: string, ...values: TemplatePart[]): void => {
    values.forEach((v) => oneLine(key, v));
    parts.push(`${key}=`, ...values, "\n");
  };
  const extra = (section: "Unit" | "Service" | "Install"): void => {
    for (const [key, value] of Object.entries(unit.extra?.[section] ?? {})) {
      for (const v of Array.isArray(value) ? value : [value as string]) line(key, v);
    }
  };
  parts.push("# Written by imgc (services.enable)\n[Unit]\n");
  line("Description", unit.description);
  if (unit.after?.length) line("After", unit.after.join(" "));
  if (unit.before?.length) line("Before", unit.before.join(" "));
  if (unit.wants?.length) line("Wants", unit.wants.join(" "));
  if (unit.requires?.length) line("Requires", unit.requires.join(" "));
  extra("Unit");
  parts.push("\n[Service]\n");
  line("Type", unit.type ?? "simple");
  if (unit.remainAfterExit !== undefined) line("RemainAfterExit", unit.remainAfterExit ? "yes" : "no");
  if (unit.user) line("User", unit.user);
  if (unit.group) line("Group", unit.group);
  if (unit.workingDirectory) line("WorkingDirectory", unit.workingDirectory);
  for (const [key, value] of Object.entries(unit.environment ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) badOption("services.enable", `environment name ${JSON.stringify(key)} is not a variable name`);
    // A lazy value cannot be escaped now; systemd reads it inside quotes, so it must not hold `"`.
    line("Environment", `"${key}=`, typeof value === "string" ? escapeEnv(value) : value, `"`);
  }
  for (const f of unit.environmentFile ?? []) line("EnvironmentFile", f);
  for (const c of unit.execStartPre ?? []) line("ExecStartPre", c);
  for (const c of execStart) line("ExecStart", c);
  if (unit.execReload !== undefined) line("ExecReload", unit.execReload);
  if (unit.execStop !== undefined) line("ExecStop", unit.execStop);
  if (unit.restart) line("Restart", unit.restart);
  if (unit.restartSec !== undefined) line("RestartSec", String(unit.restartSec));
  extra("Service");
  parts.push("\n[Install]\n");
  line("WantedBy", (unit.wantedBy ?? ["multi-user.target"]).join(" "));
  extra("Install");
  return concat(parts);
}
