/**
 * How stdlib components build the shell they run: a POSIX `sh` script assembled line by line,
 * where literal values are single-quoted into the text and lazy values (variables, secrets,
 * artifact references) travel as environment variables, never spliced into a command line.
 * The result is an ordinary `shell` provisioner, so it is hashed, logged and redacted like any.
 */
import { isRef, type Input } from "../lang/values.js";
import { shell, type ShellInlineOptions } from "../lang/provisioners.js";
import type { ProvisionerSpec } from "../lang/provisioner.js";
import type { ComponentOptions } from "./options.js";

/** Quotes a string as one `sh` word: `'it'\''s'`. */
export function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `executeCommand` that runs the script as root through sudo (Packer's usual idiom). */
export const SUDO_EXECUTE = "chmod +x {{.Path}}; sudo -E sh -c '{{.Vars}} {{.Path}}'";

/** A script under construction for one component. */
export class Script {
  private readonly lines: string[] = [];
  private readonly env: Record<string, Input<string>> = {};
  private counter = 0;

  /** `component` names the component in every error the script prints (`imgc packages.install: …`). */
  constructor(readonly component: string) {
    this.lines.push(
      "set -eu",
      `die() { echo "imgc ${component}: $*" >&2; exit 3; }`,
      // "Exists" is decided with `command -v`, which every POSIX shell (and busybox) has.
      "has() { command -v \"$1\" >/dev/null 2>&1; }",
    );
  }

  /**
   * One `sh` word standing for `value`: a quoted literal, or `"$IMGC_ARG_n"` for a lazy value
   * (resolved at apply time into the script's environment). Names are numbered in call order,
   * so the same component call always makes the same script (a stable cache key).
   */
  word(value: Input<string>): string {
    if (isRef(value)) {
      const name = `IMGC_ARG_${this.counter++}`;
      this.env[name] = value;
      return `"$${name}"`;
    }
    return quote(String(value));
  }

  /** Appends lines of shell. */
  add(...lines: string[]): this {
    this.lines.push(...lines);
    return this;
  }

  /** The `shell` provisioner that runs this script. */
  toProvisioner(options: ComponentOptions & Pick<ShellInlineOptions, "expectDisconnect" | "pauseBefore" | "timeout" | "validExitCodes"> = {}): ProvisionerSpec {
    const { sudo, only, except, ...shellOptions } = options;
    return shell({
      inline: [...this.lines],
      ...(Object.keys(this.env).length > 0 ? { env: { ...this.env } } : {}),
      ...(sudo ? { executeCommand: SUDO_EXECUTE } : {}),
      ...(only ? { only } : {}),
      ...(except ? { except } : {}),
      ...shellOptions,
    });
  }
}
