import {
  ContentFilteredError,
  type ModelError,
  PermanentModelError,
  RateLimitedError,
  TransientModelError,
} from '../core/errors.js';

/**
 * Shared by every HTTP provider: how an HTTP failure becomes one of the typed `ModelError`s the agent runtime
 * acts on, and how an aborted call surfaces (the signal's own reason, never a `ModelError`).
 */

/** The error a cancelled call rejects with: the signal's reason, or a standard `AbortError`. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted.', 'AbortError');
}

/**
 * Settles like `promise`, but rejects with the signal's reason as soon as the signal aborts. The request itself
 * is closed by the same signal (it is passed to the HTTP client); this only makes sure the caller is not kept
 * waiting on a step the client cannot interrupt (a token fetch, a slow stream reader).
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** Minimal view of response headers: the Fetch `Headers` class and Azure core's `HttpHeaders` both fit. */
export interface HeaderReader {
  get(name: string): string | null | undefined;
}

/**
 * Milliseconds to wait before the next attempt, from `retry-after-ms` (milliseconds, Azure), else `retry-after`
 * (delta-seconds or an HTTP date). `undefined` when neither is present or parseable.
 */
export function retryAfterMs(
  headers: HeaderReader | undefined,
  now: number = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms != null && ms.trim() !== '') {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return Math.ceil(value);
  }
  const after = headers.get('retry-after');
  if (after == null || after.trim() === '') return undefined;
  const seconds = Number(after);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds * 1000));
  const date = Date.parse(after);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** The `error` object of an OpenAI/Azure error body: `{ error: { code, message, innererror } }`. */
export interface ProviderErrorBody {
  code?: unknown;
  message?: unknown;
  param?: unknown;
  type?: unknown;
  innererror?: { code?: unknown; content_filter_result?: unknown; content_filter_results?: unknown };
}

function asErrorBody(value: unknown): ProviderErrorBody | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const inner = (value as { error?: unknown }).error;
  // Accept both the whole body and its `error` member.
  if (typeof inner === 'object' && inner !== null) return inner as ProviderErrorBody;
  return value as ProviderErrorBody;
}

/** Whether an error body is Azure's content-filter refusal. */
export function isContentFilterBody(body: unknown): boolean {
  const error = asErrorBody(body);
  if (!error) return false;
  return (
    error.code === 'content_filter' ||
    error.code === 'content_filtered' ||
    error.innererror?.code === 'ResponsibleAIPolicyViolation'
  );
}

/** The categories a content filter flagged (`{ violence: { filtered: true, severity: 'high' } }` → `['violence']`). */
export function filteredCategories(results: unknown): string[] {
  if (typeof results !== 'object' || results === null) return [];
  const out: string[] = [];
  for (const [category, verdict] of Object.entries(results)) {
    if (
      typeof verdict === 'object' &&
      verdict !== null &&
      (verdict as { filtered?: unknown }).filtered === true
    ) {
      out.push(category);
    }
  }
  return out;
}

export interface HttpFailure {
  /** HTTP status; undefined when no response arrived (connection refused, reset, socket error). */
  status: number | undefined;
  headers?: HeaderReader | undefined;
  /** Parsed error body (whole body or its `error` member). */
  body?: unknown;
  message: string;
  /** Which provider and target failed, for the error's details. */
  provider: string;
  target?: string | undefined;
  cause?: unknown;
}

/**
 * Maps one HTTP failure: 429 → RateLimited (with retry-after), content filter → ContentFiltered,
 * 408/409/5xx/no response → Transient, any other 4xx → Permanent.
 */
export function mapHttpFailure(failure: HttpFailure): ModelError {
  const { status, provider, target } = failure;
  const error = asErrorBody(failure.body);
  const code = typeof error?.code === 'string' ? error.code : undefined;
  const details: Record<string, unknown> = { provider };
  if (target !== undefined) details.target = target;
  if (status !== undefined) details.status = status;
  if (code !== undefined) details.providerCode = code;
  const where = target ? `${provider} (${target})` : provider;
  const reason = failure.message;

  if (status === 429) {
    const wait = retryAfterMs(failure.headers);
    return new RateLimitedError(`${where} is rate limiting requests: ${reason}`, wait, details);
  }
  if (isContentFilterBody(failure.body)) {
    const categories = filteredCategories(
      error?.innererror?.content_filter_result ?? error?.innererror?.content_filter_results,
    );
    return new ContentFilteredError(`${where} refused the prompt (content filter${list(categories)}).`, {
      ...details,
      categories,
    });
  }
  const options = failure.cause === undefined ? undefined : { cause: failure.cause };
  if (status === undefined) {
    return new TransientModelError(`${where} could not be reached: ${reason}`, details, options);
  }
  if (status === 408 || status === 409 || status >= 500) {
    return new TransientModelError(`${where} failed with HTTP ${status}: ${reason}`, details, options);
  }
  return new PermanentModelError(
    `${where} rejected the request with HTTP ${status}: ${reason}`,
    details,
    options,
  );
}

function list(items: string[]): string {
  return items.length > 0 ? `: ${items.join(', ')}` : '';
}
