/**
 * Redaction: every secret value and sensitive variable is registered here before anything can
 * print it, and every text leaving the runtime (events, logs, state, manifests, error messages)
 * passes through `redact`. Replaced by `<sensitive>`.
 */

/** What a redacted value is replaced with. */
export const SENSITIVE = "<sensitive>";

/** Holds the values that must never be shown and replaces them in text and JSON. */
export class Redactor {
  private readonly values = new Set<string>();
  private sorted: string[] = [];

  /**
   * Registers a value. Empty and one-character values are ignored (they would blank out
   * ordinary text and hide nothing). A multi-line value also registers each of its lines of
   * four characters or more, because output is redacted line by line.
   */
  add(value: string | undefined | null): void {
    if (typeof value !== "string" || value.length < 2 || this.values.has(value)) return;
    this.values.add(value);
    if (value.includes("\n")) {
      for (const line of value.split(/\r?\n/)) if (line.trim().length >= 4) this.values.add(line);
    }
    // Longest first, so a value that contains another is replaced whole.
    this.sorted = [...this.values].sort((a, b) => b.length - a.length);
  }

  /** True when at least one value is registered. */
  get active(): boolean {
    return this.sorted.length > 0;
  }

  /** Replaces every registered value in `text`. */
  redact(text: string): string {
    if (this.sorted.length === 0) return text;
    let out = text;
    for (const value of this.sorted) if (out.includes(value)) out = out.split(value).join(SENSITIVE);
    return out;
  }

  /** A deep copy of `value` with every string redacted (keys too). */
  redactDeep<T>(value: T): T {
    if (this.sorted.length === 0) return value;
    return this.walk(value) as T;
  }

  private walk(value: unknown): unknown {
    if (typeof value === "string") return this.redact(value);
    if (Array.isArray(value)) return value.map((v) => this.walk(v));
    if (value instanceof Error) return redactError(this, value);
    if (value && typeof value === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[this.redact(k)] = this.walk(v);
      return out;
    }
    return value;
  }
}

/** A copy of an error with its message and stack redacted (errors reach the UI and logs). */
export function redactError(redactor: Redactor, error: Error): Error {
  const copy = new Error(redactor.redact(error.message));
  copy.name = error.name;
  if (error.stack) copy.stack = redactor.redact(error.stack);
  for (const key of ["code", "hint", "site"] as const) {
    const v = (error as unknown as Record<string, unknown>)[key];
    if (v !== undefined) (copy as unknown as Record<string, unknown>)[key] = typeof v === "string" ? redactor.redact(v) : v;
  }
  return copy;
}
