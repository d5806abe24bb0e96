/** Durations in options: a number of seconds, or a string like Packer's (`"500ms"`, `"30s"`, `"5m"`, `"1h"`, `"1h30m"`). */
export type Duration = number | `${number}${"ms" | "s" | "m" | "h"}` | `${number}h${number}m` | `${number}m${number}s`;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a duration to milliseconds; throws a sentence naming the bad value. */
export function parseDuration(value: Duration | string): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`duration ${value} must be a non-negative number of seconds`);
    return value * 1000;
  }
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (const m of value.matchAll(re)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    matched += m[0].length;
  }
  if (matched === 0 || matched !== value.length) {
    throw new RangeError(`duration "${value}" is not valid: write e.g. "30s", "5m", "1h30m" or "500ms"`);
  }
  return total;
}
