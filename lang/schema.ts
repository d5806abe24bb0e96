/**
 * Small zod helpers shared by platform option schemas: a field may hold a lazy value where its
 * type says `Input<T>`, and local paths are recorded objects.
 */
import { z } from "zod";
import { isKind } from "./brand.js";

/** A lazy imgc value (variable, secret, artifact reference, template). */
export const refSchema = z.custom<unknown>((x) => isKind(x, "value"), { message: "expected an imgc value" });

/** `Input<T>`: the schema's type, or a lazy value. */
export function input<T extends z.ZodType>(schema: T) {
  return z.union([schema, refSchema]);
}

/** A duration: seconds, or a string such as "30s", "5m", "1h30m". */
export const durationSchema = z.union([z.number().nonnegative(), z.string().regex(/^(\d+(\.\d+)?(ms|s|m|h))+$/, "expected a duration such as \"30s\" or \"5m\"")]);

/** A local path as recorded by `localPath()`. */
export const localPathSchema = z.custom<unknown>((x) => isKind(x, "path"), { message: "expected a local path" });
