/**
 * `t`, the tagged template: mixes text with variables, secrets, build facts and artifact
 * references without stringifying them. A template that contains a secret is secret as a whole.
 */
import { makeRef, isRef, type Expr, type Input, type Ref } from "./values.js";

/** What may be interpolated into `t`. */
export type TemplatePart = Input<string> | Input<number> | Input<boolean>;

/** ``t`base-${version}-${timestamp()}` `` builds a lazy string. */
export function t(strings: TemplateStringsArray, ...values: TemplatePart[]): Ref<string> {
  const parts: (string | number | boolean | Expr)[] = [];
  strings.forEach((text, i) => {
    if (text !== "") parts.push(text);
    if (i < values.length) {
      const value = values[i];
      if (isRef(value)) parts.push(value.expr);
      else if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") parts.push(value);
      else throw new TypeError(`t\`...\`: interpolation ${i + 1} is ${typeof value}; only strings, numbers, booleans and imgc values fit`);
    }
  });
  return makeRef({ kind: "template", parts });
}
