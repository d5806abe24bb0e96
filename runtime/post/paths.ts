/** Output paths of post-processors: an IR `$path` marker or a plain string, with Packer's `{{.BuildName}}`-style fields filled. */
import { isAbsolute, resolve } from "node:path";
import { isIrPath } from "../../compiler/ir.js";

/** Fills `{{.Field}}` (and `{{ .Field }}`) placeholders. Unknown fields are an error naming them. */
export function fillTemplate(text: string, fields: Readonly<Record<string, string>>): string {
  return text.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_, name: string) => {
    const value = fields[name];
    if (value === undefined) throw new Error(`unknown placeholder {{.${name}}} in "${text}"; known: ${Object.keys(fields).map((f) => `{{.${f}}}`).join(", ")}`);
    return value;
  });
}

/** The absolute path of an output option. */
export function outputPath(option: unknown, projectRoot: string, fields: Readonly<Record<string, string>>): string {
  const raw = isIrPath(option) ? option.$path : typeof option === "string" ? option : undefined;
  if (raw === undefined) throw new Error(`output must be a path, got ${JSON.stringify(option)}`);
  const filled = fillTemplate(raw, fields);
  return isAbsolute(filled) ? filled : resolve(projectRoot, filled);
}
