import { Runs } from './runs.js';
import { Teams } from './teams.js';
import { Transport } from './transport.js';

export interface BatonClientOptions {
  /** Where the API listens, e.g. `http://127.0.0.1:3000`. */
  baseUrl: string;
  /** An API key (`BATON_API_KEYS`). */
  apiKey?: string;
  /** Or a function returning a bearer token for each request (an OIDC access token). */
  token?: () => string | Promise<string>;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** Retries of throttled (429), unavailable (503) and unreachable calls; default 4. */
  maxRetries?: number;
  /** The longest wait between two tries, whatever `Retry-After` asks for; default 30 s. */
  maxRetryDelayMs?: number;
}

/**
 * The baton API as typed calls. Creates are idempotent (a key is generated when you give none, and retries reuse
 * it), throttling and outages are retried with `Retry-After`, event streams resume where they broke, and failures
 * are `BatonApiError`s with the API's error code. Works wherever `fetch` and Web Crypto do.
 */
export class BatonClient {
  readonly runs: Runs;
  readonly teams: Teams;

  constructor(options: BatonClientOptions) {
    if (options.apiKey && options.token)
      throw new TypeError('Give BatonClient an apiKey or a token, not both.');
    const retry = { maxRetries: options.maxRetries ?? 4, maxDelayMs: options.maxRetryDelayMs ?? 30_000 };
    const transport = new Transport({
      baseUrl: options.baseUrl,
      auth: options.apiKey ?? options.token,
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      retry,
    });
    this.runs = new Runs(transport, retry);
    this.teams = new Teams(transport);
  }
}
