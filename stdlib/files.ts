/**
 * `files.put`: a file on the machine from inline content, a local file, or a template filled
 * from typed values, with owner and mode. The data goes to a staging path under /tmp first,
 * then one shell step moves it into place (creating parent directories) and sets owner and
 * mode, so it works the same through docker and SSH, with or without sudo.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { file } from "../lang/provisioners.js";
import type { ProvisionerSpec } from "../lang/provisioner.js";
import type { PathLike } from "../lang/path.js";
import { captureSite, formatSite } from "../lang/site.js";
import { dirname } from "node:path";
import { isRef, type Input } from "../lang/values.js";
import { badOption, type ComponentOptions } from "./options.js";
import { quote, Script } from "./script.js";
import { concat } from "./text.js";

/** A value a template placeholder may take. */
export type TemplateValue = Input<string> | Input<number> | Input<boolean>;

/** Where the file's bytes come from: exactly one of `content`, `source`, `template`, `templateText`. */
export type FileSource =
  | {
      /**
       * The file's text (may be a `t` template or a `secret()`).
       * @example files.put("/etc/motd", { content: "Built by imgc\n" })
       */
      readonly content: Input<string>;
      readonly source?: never; readonly template?: never; readonly templateText?: never; readonly values?: never;
    }
  | {
      /**
       * A local file, relative to the file that calls `files.put` (or a file URL). Its content
       * digest is part of the cache key.
       * @example files.put("/etc/nginx/nginx.conf", { source: "./nginx.conf" })
       */
      readonly source: PathLike;
      readonly content?: never; readonly template?: never; readonly templateText?: never; readonly values?: never;
    }
  | {
      /**
       * A local template file, relative to the calling file, with `{{ name }}` placeholders
       * filled from `values` when the definitions are evaluated.
       * @example files.put("/etc/app.env", { template: "./app.env.tpl", values: { port: 8080 } })
       */
      readonly template: PathLike;
      /** Values of the placeholders; every placeholder needs one and every value must be used. */
      readonly values: Readonly<Record<string, TemplateValue>>;
      readonly content?: never; readonly source?: never; readonly templateText?: never;
    }
  | {
      /**
       * An inline template with `{{ name }}` placeholders filled from `values`.
       * @example files.put("/etc/issue", { templateText: "{{ name }} {{ version }}\n", values: { name: "web", version } })
       */
      readonly templateText: string;
      /** Values of the placeholders; every placeholder needs one and every value must be used. */
      readonly values: Readonly<Record<string, TemplateValue>>;
      readonly content?: never; readonly source?: never; readonly template?: never;
    };

/** Options of `files.put`: the source, plus owner and modes. */
export type PutOptions = FileSource & ComponentOptions & {
  /**
   * Owner, `user` or `user:group` (names or numeric ids).
   * @default "root:root" (`0:0`)
   * @example files.put("/srv/app/config.yml", { source: "./config.yml", owner: "app:app" })
   */
  readonly owner?: string;
  /**
   * File mode, as a number or an octal string.
   * @default 0o644
   * @example files.put("/usr/local/bin/run", { source: "./run.sh", mode: 0o755 })
   */
  readonly mode?: number | string;
  /**
   * Mode of parent directories that have to be created.
   * @default 0o755
   * @example files.put("/etc/app/secret", { content: token, mode: 0o600, dirMode: 0o700 })
   */
  readonly dirMode?: number | string;
};

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

function octal(component: string, what: string, mode: number | string | undefined, fallback: number): string {
  if (mode === undefined) return fallback.toString(8).padStart(4, "0");
  const n = typeof mode === "number" ? mode : /^0?o?[0-7]{3,4}$/.test(mode) ? parseInt(mode.replace(/^0?o/, ""), 8) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 0o7777) badOption(component, `${what} ${JSON.stringify(mode)} is not a file mode`, "write it as a number like 0o644 or a string like \"0644\"");
  return n.toString(8).padStart(4, "0");
}

/**
 * Fills `{{ name }}` placeholders from `values`. Literal values are substituted now; lazy ones
 * (variables, secrets, artifact references) make the result a lazy template.
 * Throws when a placeholder has no value or a value is never used (a typo either side).
 */
export function fillTemplate(text: string, values: Readonly<Record<string, TemplateValue>>, where: string): Input<string> {
  const parts: TemplateValue[] = [];
  const used = new Set<string>();
  const missing = new Set<string>();
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    const key = match[1]!;
    parts.push(text.slice(last, match.index));
    if (Object.prototype.hasOwnProperty.call(values, key)) {
      parts.push(values[key]!);
      used.add(key);
    } else missing.add(key);
    last = match.index! + match[0].length;
  }
  parts.push(text.slice(last));
  if (missing.size) badOption("files.put", `${where} has placeholders with no value: ${[...missing].join(", ")}`, "add them to values");
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length) badOption("files.put", `values ${unused.join(", ")} appear nowhere in ${where}`, "remove them or add {{ name }} placeholders");
  return concat(parts);
}

function readTemplate(path: PathLike): { text: string; where: string } {
  const site = captureSite();
  const absolute = path instanceof URL ? fileURLToPath(path) : isAbsolute(path) ? path : resolve(site.file === "<unknown>" ? process.cwd() : dirname(site.file), path);
  try {
    return { text: readFileSync(absolute, "utf8"), where: `template ${String(path)}` };
  } catch (error) {
    return badOption("files.put", `cannot read template ${String(path)} (resolved to ${absolute}, from ${formatSite(site)}): ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/**
 * Puts a file on the machine. Idempotent: the same file, owner and mode each time.
 *
 * @param destination Absolute path on the machine.
 * @example
 * files.put("/etc/motd", { content: "Welcome\n" })
 * @example
 * files.put("/usr/local/bin/healthcheck", { source: "./healthcheck.sh", mode: 0o755 })
 * @example
 * files.put("/etc/app/app.conf", {
 *   template: "./app.conf.tpl",
 *   values: { port: 8080, env: "prod", version },   // version = variable("version")
 *   owner: "app:app", mode: "0640",
 * })
 */
export function put(destination: Input<string>, options: PutOptions): ProvisionerSpec[] {
  const component = "files.put";
  if (!isRef(destination) && (typeof destination !== "string" || !destination.startsWith("/") || destination.endsWith("/"))) {
    badOption(component, `destination ${JSON.stringify(destination)} must be an absolute file path`, "e.g. \"/etc/app/app.conf\"");
  }
  const o = options as PutOptions & { content?: Input<string>; source?: PathLike; template?: PathLike; templateText?: string; values?: Record<string, TemplateValue> };
  const given = (["content", "source", "template", "templateText"] as const).filter((k) => o[k] !== undefined);
  if (given.length !== 1) badOption(component, `give exactly one of content, source, template or templateText (got ${given.length ? given.join(", ") : "none"})`);
  if ((o.template !== undefined || o.templateText !== undefined) && (typeof o.values !== "object" || o.values === null)) badOption(component, "a template needs values");
  const owner = o.owner ?? "0:0";
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/.test(owner)) badOption(component, `owner ${JSON.stringify(owner)} is not user or user:group`);
  const mode = octal(component, "mode", o.mode, 0o644);
  const dirMode = octal(component, "dirMode", o.dirMode, 0o755);
  const { sudo, only, except } = o;
  const common = { ...(only ? { only } : {}), ...(except ? { except } : {}) };

  // A staging name derived from the destination: stable, so the cache key is too.
  const id = createHash("sha256").update(JSON.stringify(isRef(destination) ? destination.expr : destination)).digest("hex").slice(0, 16);
  const staging = `/tmp/imgc-files-${id}`;

  let upload: ProvisionerSpec;
  if (o.content !== undefined) upload = file.content(o.content, staging, common);
  else if (o.source !== undefined) upload = file.upload(o.source, staging, common);
  else {
    const { text, where } = o.templateText !== undefined ? { text: o.templateText, where: "templateText" } : readTemplate(o.template!);
    upload = file.content(fillTemplate(text, o.values!, where), staging, common);
  }

  const s = new Script(component);
  s.add(
    `dest=${s.word(destination)}`,
    `staging=${quote(staging)}`,
    `[ -f "$staging" ] || die "the staged copy $staging of $dest is missing"`,
    "parent=$(dirname \"$dest\")",
    `if [ ! -d "$parent" ]; then mkdir -p "$parent"; chmod ${dirMode} "$parent"; fi`,
    // Owner and mode on the staged copy first, then an atomic rename into place.
    `chown ${quote(owner)} "$staging"`,
    `chmod ${mode} "$staging"`,
    "mv -f \"$staging\" \"$dest\"",
  );
  return [upload, s.toProvisioner({ ...(sudo ? { sudo } : {}), ...common })];
}
