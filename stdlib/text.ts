/**
 * Text made of literal strings and lazy values: a plain string when every part is known, else a
 * `t` template (so a secret or artifact id inside a rendered file stays lazy and redacted).
 */
import { t, type TemplatePart } from "../lang/template.js";
import { isRef, type Input } from "../lang/values.js";

/** Concatenates parts; returns a string when all are literals, otherwise a lazy template. */
export function concat(parts: readonly TemplatePart[]): Input<string> {
  if (parts.every((p) => !isRef(p))) return parts.map((p) => String(p)).join("");
  // `t` takes (strings, ...values) with strings.length === values.length + 1.
  const strings: string[] = [""];
  const values: TemplatePart[] = [];
  for (const part of parts) {
    if (isRef(part)) {
      values.push(part);
      strings.push("");
    } else {
      strings[strings.length - 1] += String(part);
    }
  }
  return t(Object.assign(strings, { raw: strings }) as unknown as TemplateStringsArray, ...values);
}
