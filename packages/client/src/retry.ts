/** When to try a request again, and how long to wait first. */

export interface RetrySettings {
  /** Retries after the first attempt. */
  maxRetries: number;
  /** Longest wait, whatever `Retry-After` asks for. */
  maxDelayMs: number;
}

/** Statuses that mean "not done; try again later": throttled, or the service (or its queue) is unavailable. */
export const RETRYABLE_STATUSES = new Set([429, 503]);

/** `Retry-After` in milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Exponential backoff with jitter (250 ms, 500 ms, 1 s, …), or what the server asked for, capped. */
export function delayBeforeRetry(
  attempt: number,
  retryAfter: number | undefined,
  settings: RetrySettings,
): number {
  const backoff = 250 * 2 ** (attempt - 1);
  const wait = retryAfter ?? backoff / 2 + (Math.random() * backoff) / 2;
  return Math.min(wait, settings.maxDelayMs);
}

/** Waits `ms`, or rejects as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
