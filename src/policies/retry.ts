import { handleWhen, type IBackoff, type IRetryBackoffContext, type RetryPolicy, retry } from 'cockatiel';
import { ModelError, RateLimitedError } from '../core/errors.js';

export interface RetrySettings {
  /** Total attempts, the first included. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/**
 * Exponential backoff with jitter ("equal jitter": half fixed, half random) that never waits less than a
 * rate-limited provider asked for in `retry-after`.
 */
function backoffFor(settings: RetrySettings, random: () => number) {
  const at = (
    attempt: number,
    context: IRetryBackoffContext<unknown>,
  ): IBackoff<IRetryBackoffContext<unknown>> => {
    const exp = Math.min(settings.maxDelayMs, settings.initialDelayMs * 2 ** (attempt - 1));
    const jittered = exp / 2 + (random() * exp) / 2;
    const err = 'error' in context.result ? context.result.error : undefined;
    const retryAfter = err instanceof RateLimitedError ? (err.retryAfterMs ?? 0) : 0;
    return { duration: Math.max(jittered, retryAfter), next: (c) => at(attempt + 1, c) };
  };
  return { next: (context: IRetryBackoffContext<unknown>) => at(1, context) };
}

/**
 * Retries retryable model errors (rate limits, transient failures, timeouts) with backoff, up to `maxAttempts`.
 * A rate limit whose retry-after is longer than `longestWaitMs()` (the configured maximum, or what is left of the
 * run's deadline) is not waited for: the attempt fails with the rate-limit error.
 */
export function retryPolicyFor(
  settings: RetrySettings,
  random: () => number,
  longestWaitMs: () => number = () => Number.POSITIVE_INFINITY,
): RetryPolicy {
  const retryable = (e: unknown) =>
    e instanceof ModelError &&
    e.retryable &&
    !(e instanceof RateLimitedError && (e.retryAfterMs ?? 0) > longestWaitMs());
  return retry(handleWhen(retryable), {
    maxAttempts: settings.maxAttempts - 1,
    backoff: backoffFor(settings, random),
  });
}
