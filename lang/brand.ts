/**
 * Brands that mark imgc's declaration objects. They use `Symbol.for`, so objects made by two
 * copies of imgc in one process (a component library with its own copy in node_modules) are still
 * recognised: identity checks never use `instanceof`.
 */

/** The property key that carries an object's imgc kind. */
export const IMGC: unique symbol = Symbol.for("imgc.kind") as never;

/** Every kind of object the DSL creates. */
export type Kind = "value" | "image" | "platform" | "provisioner" | "post" | "path" | "variable";

/** True when `x` is an imgc object of the given kind (from any copy of imgc). */
export function isKind(x: unknown, kind: Kind): boolean {
  return typeof x === "object" && x !== null && (x as Record<symbol, unknown>)[IMGC] === kind;
}
