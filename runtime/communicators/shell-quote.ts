/**
 * POSIX shell quoting: how env values and paths reach a remote shell without being
 * interpreted. A single-quoted word is taken literally by every POSIX shell; a quote inside it
 * is written `'\''`. Newlines, `$()`, backticks and globs are all inert inside single quotes.
 */

/** Quotes `value` as one literal shell word. */
export function shQuote(value: string): string {
  if (value === "") return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** True for names a POSIX shell accepts as variables. */
export function isEnvName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

/** Throws a clear error for env names a shell would not accept (they could inject code). */
export function checkEnvNames(env: Readonly<Record<string, string>>, where: string): void {
  for (const name of Object.keys(env)) {
    if (!isEnvName(name)) throw new Error(`${where}: environment variable name ${JSON.stringify(name)} is not valid (letters, digits and _ only, not starting with a digit)`);
  }
}

/** `export A='x' B='y';` lines for a script, one per variable; empty for no variables. */
export function exportLines(env: Readonly<Record<string, string>>): string {
  checkEnvNames(env, "env");
  return Object.entries(env).map(([k, v]) => `export ${k}=${shQuote(v)}\n`).join("");
}
