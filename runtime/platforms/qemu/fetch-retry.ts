/**
 * `fetch` with a few retries on transport errors (connection reset or refused, timeouts): a
 * mirror that drops one connection should not fail a build. HTTP error statuses are answers,
 * not retried. The error says which URL and why.
 */
const TRANSIENT = /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|UND_ERR_SOCKET|UND_ERR_CONNECT_TIMEOUT|socket hang up|other side closed/i;

export async function fetchWithRetry(url: string, init: RequestInit & { signal: AbortSignal }, what: string, attempts = 4): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, init);
    } catch (error) {
      const e = error as Error & { cause?: Error & { code?: string } };
      const reason = e.cause?.message ?? e.message;
      if (init.signal.aborted) throw error;
      if (attempt >= attempts || !TRANSIENT.test(`${reason} ${e.cause?.code ?? ""}`)) throw new Error(`${what} ${url} failed: ${reason}`);
      await new Promise((r) => setTimeout(r, 300 * attempt));
    }
  }
}
