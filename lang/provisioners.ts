/**
 * The built-in provisioners (`imgc/provisioners`): shell, file, shellLocal, breakpoint and
 * errorCleanup. A component is just a function that returns these (or arrays of them).
 */
import type { Duration } from "./duration.js";
import { localPath, type LocalPath, type PathLike } from "./path.js";
import { makeProvisioner, type CommonProvisionerOptions, type ProvisionerSpec } from "./provisioner.js";
import { captureSite } from "./site.js";
import type { Input } from "./values.js";

/** Options shared by the three forms of `shell`. */
export interface ShellCommonOptions extends CommonProvisionerOptions {
  /**
   * Environment variables for the commands. Values are passed quoted safely (never spliced into
   * a shell line), and may be lazy (`secret()`s stay redacted in logs).
   */
  readonly env?: Readonly<Record<string, Input<string>>>;
  /**
   * How to run each script, with `{{.Vars}}` (the `export` line of `env`) and `{{.Path}}` (the
   * uploaded script) filled in, e.g. `"sudo -E sh -c '{{.Vars}} {{.Path}}'"` to run as root.
   * @default "chmod +x {{.Path}}; {{.Vars}} {{.Path}}"
   */
  readonly executeCommand?: string;
  /** Interpreter for inline commands. @default "/bin/sh -e" */
  readonly inlineShebang?: string;
  /** Directory on the machine where scripts are uploaded. @default "/tmp" */
  readonly remoteFolder?: string;
  /** The script reboots the machine: a lost connection is success, and the communicator reconnects. @default false */
  readonly expectDisconnect?: boolean;
  /** Exit codes that count as success. @default [0] */
  readonly validExitCodes?: readonly number[];
  /** Retries after a failure before giving up (the whole script runs again). @default 0 */
  readonly maxRetries?: number;
  /** Fails the step if it runs longer than this. @default no limit */
  readonly timeout?: Duration;
  /** Waits this long before starting (e.g. after a reboot). @default 0 */
  readonly pauseBefore?: Duration;
  /** Keep the uploaded script on the machine. @default false */
  readonly skipClean?: boolean;
}

/** Commands given inline, one per line of a script. */
export interface ShellInlineOptions extends ShellCommonOptions {
  /** Shell commands, run in order as one script with `set -e` semantics. */
  readonly inline: readonly Input<string>[];
  readonly script?: never;
  readonly scripts?: never;
}
/** One local script, uploaded and run. */
export interface ShellScriptOptions extends ShellCommonOptions {
  /** A local script (relative to the file that wrote it, or a file URL). */
  readonly script: PathLike;
  readonly inline?: never;
  readonly scripts?: never;
}
/** Several local scripts, uploaded and run in order. */
export interface ShellScriptsOptions extends ShellCommonOptions {
  /** Local scripts (relative to the file that wrote them, or file URLs), run in order. */
  readonly scripts: readonly PathLike[];
  readonly inline?: never;
  readonly script?: never;
}
/** Exactly one of `inline`, `script` or `scripts`. */
export type ShellOptions = ShellInlineOptions | ShellScriptOptions | ShellScriptsOptions;

/** Shell options as they are stored in the spec: paths resolved to `LocalPath`. */
export type ShellSpecOptions = Omit<ShellCommonOptions, "only" | "except"> & {
  readonly inline?: readonly Input<string>[];
  readonly scripts?: readonly LocalPath[];
};

/** Runs shell commands or scripts on the machine being built. */
export function shell(options: ShellOptions): ProvisionerSpec<"shell", ShellSpecOptions> {
  const site = captureSite();
  const { script, scripts, ...rest } = options as ShellCommonOptions & { script?: PathLike; scripts?: readonly PathLike[]; inline?: readonly Input<string>[] };
  const paths = script !== undefined ? [script] : scripts;
  return makeProvisioner("shell", { ...rest, ...(paths ? { scripts: paths.map((p) => localPath(p, site)) } : {}) }, site);
}

/** Options of file uploads and downloads. */
export interface FileOptions extends CommonProvisionerOptions {
  /** File mode on the destination, e.g. `0o644`. @default the source's mode */
  readonly mode?: number;
  /** Owner on the machine, `user` or `user:group` (uploads). @default the communicator's user */
  readonly owner?: string;
}

/** Options of `file.content`. */
export interface FileContentOptions extends FileOptions {}

/** File transfers between this machine and the one being built. */
export const file = {
  /**
   * Uploads a local file or directory. As with Packer and rsync, a directory source ending in
   * `/` uploads its contents into `destination`; without it, the directory itself.
   */
  upload(source: PathLike, destination: Input<string>, options: FileOptions = {}): ProvisionerSpec<"file", { direction: "upload"; source: LocalPath; destination: Input<string>; contents?: true } & Omit<FileOptions, "only" | "except">> {
    const site = captureSite();
    // Resolving the path drops a trailing slash, so the rule it carries is kept as a flag
    // (which is also hashed: `dir` and `dir/` upload different trees).
    const contents = typeof source === "string" && /[\\/]$/.test(source) ? { contents: true as const } : {};
    return makeProvisioner("file", { direction: "upload" as const, source: localPath(source, site), destination, ...contents, ...options }, site);
  },
  /** Downloads a file or directory from the machine to a local path (relative to the calling file). */
  download(source: Input<string>, destination: PathLike, options: CommonProvisionerOptions = {}): ProvisionerSpec<"file", { direction: "download"; source: Input<string>; destination: LocalPath }> {
    const site = captureSite();
    return makeProvisioner("file", { direction: "download" as const, source, destination: localPath(destination, site), ...options }, site);
  },
  /** Writes a file on the machine from a string (which may be a template or a secret). */
  content(content: Input<string>, destination: Input<string>, options: FileContentOptions = {}): ProvisionerSpec<"file", { direction: "content"; content: Input<string>; destination: Input<string> } & Omit<FileOptions, "only" | "except">> {
    const site = captureSite();
    return makeProvisioner("file", { direction: "content" as const, content, destination, ...options }, site);
  },
};

/** Options of `shellLocal`: commands run on the machine that runs imgc. */
export type ShellLocalOptions = CommonProvisionerOptions & {
  /** Environment variables for the commands (values may be lazy). */
  readonly env?: Readonly<Record<string, Input<string>>>;
  /** Fails the step if it runs longer than this. @default no limit */
  readonly timeout?: Duration;
  /** Exit codes that count as success. @default [0] */
  readonly validExitCodes?: readonly number[];
} & (
  | { /** Commands run in order by `/bin/sh -e`. */ readonly inline: readonly Input<string>[]; readonly script?: never }
  | { /** A local script (relative to the file that wrote it). */ readonly script: PathLike; readonly inline?: never }
);

/** Runs commands on the machine that runs imgc (Packer's shell-local). */
export function shellLocal(options: ShellLocalOptions): ProvisionerSpec<"shell-local"> {
  const site = captureSite();
  const { script, ...rest } = options as ShellLocalOptions & { script?: PathLike };
  return makeProvisioner("shell-local", { ...rest, ...(script !== undefined ? { script: localPath(script, site) } : {}) }, site);
}

/** Options of `breakpoint`. */
export interface BreakpointOptions extends CommonProvisionerOptions {
  /** Shown while waiting. */
  readonly note?: string;
  /** Skip this breakpoint. @default false */
  readonly disable?: boolean;
}

/** Pauses the build until Enter is pressed (skipped, with a message, in CI or without a TTY). */
export function breakpoint(options: BreakpointOptions = {}): ProvisionerSpec<"breakpoint"> {
  return makeProvisioner("breakpoint", options, captureSite());
}

/**
 * Packer's error-cleanup-provisioner: `provisioner` is not run in the normal sequence, only when
 * the build fails and `--on-error=run-cleanup-provisioner` is given, before the cleanups.
 */
export function errorCleanup<P extends ProvisionerSpec>(provisioner: P): P {
  return Object.freeze({ ...provisioner, errorCleanup: true });
}

export type { ProvisionerSpec, ProvisionInput, CommonProvisionerOptions } from "./provisioner.js";
