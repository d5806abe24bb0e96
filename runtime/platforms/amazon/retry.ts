/**
 * Retries of AWS calls: throttling (`RequestLimitExceeded`, …), transient server and network
 * errors, and, where the caller says so, "not found" codes that only mean EC2 has not caught up
 * with a resource it just made (eventual consistency). Exponential backoff with full jitter.
 */

/** Error codes EC2, STS and S3 use for throttling. */
const THROTTLING = new Set(["RequestLimitExceeded", "Throttling", "ThrottlingException", "TooManyRequestsException", "SlowDown", "RequestThrottled", "RequestThrottledException"]);
/** Server-side errors worth another try. */
const TRANSIENT = new Set(["InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable", "RequestTimeout", "RequestTimeoutException"]);
const NETWORK = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "EAI_AGAIN", "TimeoutError"]);

/** How an API call is retried. */
export interface RetryPolicy {
  /** Attempts in all. */
  readonly attempts: number;
  /** First backoff in ms (doubles each attempt, capped at `maxDelayMs`). */
  readonly baseDelayMs: number;
  /** Largest backoff in ms. */
  readonly maxDelayMs: number;
  /** Called before each wait, to log it. */
  readonly onRetry?: (what: string, code: string, attempt: number, delayMs: number) => void;
}

/** The error code of an SDK error (its `name`, or a Node network code). */
export function errorCode(e: unknown): string {
  const err = e as { name?: string; code?: string; Code?: string };
  return err?.Code ?? (err?.code && NETWORK.has(err.code) ? err.code : undefined) ?? err?.name ?? "Error";
}

/** True for throttling and transient errors. */
export function isRetryable(e: unknown): boolean {
  const code = errorCode(e);
  const status = (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  return THROTTLING.has(code) || TRANSIENT.has(code) || NETWORK.has(code) || (status !== undefined && status >= 500 && code !== "InsufficientInstanceCapacity");
}

/** Sleeps `ms` unless aborted. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason ?? new Error("cancelled"));
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason ?? new Error("cancelled"));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Runs `call` until it succeeds, fails with an error that is not retried, or the attempts run
 * out. `alsoRetry` lists extra codes to retry (eventual-consistency "not found" codes).
 */
export async function withRetries<T>(what: string, policy: RetryPolicy, signal: AbortSignal, call: () => Promise<T>, alsoRetry: readonly string[] = []): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      if (signal.aborted) throw e;
      const code = errorCode(e);
      if (attempt >= policy.attempts || !(isRetryable(e) || alsoRetry.includes(code))) throw e;
      const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      const delay = Math.round(cap / 2 + Math.random() * (cap / 2));
      policy.onRetry?.(what, code, attempt, delay);
      await sleep(delay, signal);
    }
  }
}
