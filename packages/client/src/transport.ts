import { BatonConnectionError, errorFrom } from './errors.js';
import { delayBeforeRetry, RETRYABLE_STATUSES, type RetrySettings, retryAfterMs, sleep } from './retry.js';

export interface TransportOptions {
  baseUrl: string;
  /** A fixed API key, or a function returning a bearer token (an OIDC access token) for each request. */
  auth: string | (() => string | Promise<string>) | undefined;
  fetch: typeof fetch;
  retry: RetrySettings;
}

export interface RequestOptions {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
  /**
   * Whether a request that failed on the network may be sent again: true for reads and for writes that carry an
   * idempotency key (a create), false otherwise. 429 and 503 answers are always retried: nothing was done.
   */
  resendAfterNetworkError: boolean;
}

/** HTTP to the baton API: auth, JSON, typed errors, and retries of throttled, unavailable and unreachable calls. */
export class Transport {
  constructor(private readonly options: TransportOptions) {}

  private url(path: string, query: RequestOptions['query']): string {
    const url = new URL(path.replace(/^\//, ''), this.options.baseUrl.replace(/\/?$/, '/'));
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  private async headers(request: RequestOptions): Promise<Record<string, string>> {
    const { auth } = this.options;
    const token = typeof auth === 'function' ? await auth() : auth;
    return {
      accept: 'application/json',
      ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...request.headers,
    };
  }

  /** The response of a successful request (2xx); a failed one throws `BatonApiError` or `BatonConnectionError`. */
  async send(request: RequestOptions): Promise<Response> {
    const { retry } = this.options;
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await this.options.fetch(this.url(request.path, request.query), {
          method: request.method,
          headers: await this.headers(request),
          ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
          ...(request.signal ? { signal: request.signal } : {}),
        });
      } catch (err) {
        if (request.signal?.aborted) throw request.signal.reason;
        if (!request.resendAfterNetworkError || attempt > retry.maxRetries) {
          throw new BatonConnectionError(`Could not reach the baton API at ${this.options.baseUrl}.`, err);
        }
        await sleep(delayBeforeRetry(attempt, undefined, retry), request.signal);
        continue;
      }
      if (response.ok) return response;
      if (RETRYABLE_STATUSES.has(response.status) && attempt <= retry.maxRetries) {
        await response.body?.cancel();
        await sleep(
          delayBeforeRetry(attempt, retryAfterMs(response.headers.get('retry-after')), retry),
          request.signal,
        );
        continue;
      }
      throw await errorFrom(response);
    }
  }

  async json<T>(request: RequestOptions): Promise<T> {
    const response = await this.send(request);
    return (await response.json()) as T;
  }
}
