import { BatonTimeoutError } from './errors.js';
import { type StreamOptions, streamRunEvents } from './stream.js';
import type { Transport } from './transport.js';
import {
  type Feedback,
  type FeedbackEntry,
  type InputAccepted,
  type InputAnswer,
  type InputReply,
  type RunList,
  type RunListQuery,
  type RunRecord,
  type RunRequest,
  type StreamedEvent,
  terminalEventTypes,
} from './types.js';

export interface CallOptions {
  signal?: AbortSignal;
}

export interface CreateOptions extends CallOptions {
  /**
   * Makes the create safe to repeat: the same key with the same request returns the first run. Generated when
   * not given, and reused by the client's own retries.
   */
  idempotencyKey?: string;
}

export interface WaitOptions extends CallOptions {
  /** Give up (`BatonTimeoutError`) after this long; the run goes on. */
  timeoutMs?: number;
}

const runPath = (id: string, rest = '') => `/v1/runs/${encodeURIComponent(id)}${rest}`;

/** Runs: create, read, list, cancel, give feedback, follow live, wait for the end. */
export class Runs {
  constructor(
    private readonly transport: Transport,
    private readonly retry: { maxRetries: number; maxDelayMs: number },
  ) {}

  /** Creates a run (it is queued at once; follow it with `stream` or `wait`). */
  create(request: RunRequest, options: CreateOptions = {}): Promise<RunRecord> {
    return this.transport.json<RunRecord>({
      method: 'POST',
      path: '/v1/runs',
      body: request,
      headers: { 'idempotency-key': options.idempotencyKey ?? crypto.randomUUID() },
      signal: options.signal,
      resendAfterNetworkError: true,
    });
  }

  get(id: string, options: CallOptions = {}): Promise<RunRecord> {
    return this.transport.json<RunRecord>({
      method: 'GET',
      path: runPath(id),
      signal: options.signal,
      resendAfterNetworkError: true,
    });
  }

  /** One page of runs, newest first; pass `nextCursor` back as `cursor` for the next page. */
  page(query: RunListQuery = {}, options: CallOptions = {}): Promise<RunList> {
    return this.transport.json<RunList>({
      method: 'GET',
      path: '/v1/runs',
      query: { ...query },
      signal: options.signal,
      resendAfterNetworkError: true,
    });
  }

  /** Every run matching `query`, newest first, fetched page by page as you iterate. */
  async *list(
    query: Omit<RunListQuery, 'cursor'> = {},
    options: CallOptions = {},
  ): AsyncGenerator<RunRecord> {
    let cursor: string | undefined;
    do {
      const page = await this.page({ ...query, ...(cursor ? { cursor } : {}) }, options);
      yield* page.items;
      cursor = page.nextCursor;
    } while (cursor);
  }

  /** Cancels a queued or running run; a finished run answers 409 (`RUN_FINISHED`). */
  cancel(id: string, options: CallOptions = {}): Promise<RunRecord> {
    return this.transport.json<RunRecord>({
      method: 'POST',
      path: runPath(id, '/cancel'),
      signal: options.signal,
      resendAfterNetworkError: true,
    });
  }

  feedback(id: string, feedback: Feedback, options: CallOptions = {}): Promise<FeedbackEntry> {
    return this.transport.json<FeedbackEntry>({
      method: 'POST',
      path: runPath(id, '/feedback'),
      body: feedback,
      signal: options.signal,
      resendAfterNetworkError: false,
    });
  }

  /**
   * Answers a pending request of a waiting run (`requestId` is its `run.pending[].id`): a decision on an approval
   * (`{ decision, arguments?, comment? }`) or an answer to a question (`{ answer }`). A request answered already or expired answers 409 (`INPUT_NOT_PENDING`); an answer
   * is never resent after a network error (the caller reads the run to learn whether it arrived).
   */
  answer(
    id: string,
    requestId: string,
    reply: InputReply,
    options: CallOptions = {},
  ): Promise<InputAccepted> {
    const body: InputAnswer = { ...reply, requestId };
    return this.transport.json<InputAccepted>({
      method: 'POST',
      path: runPath(id, '/input'),
      body,
      signal: options.signal,
      resendAfterNetworkError: false,
    });
  }

  /** The run's events as they happen, ending with its terminal event; reconnects without losing or repeating one. */
  stream(id: string, options: StreamOptions = {}): AsyncGenerator<StreamedEvent> {
    return streamRunEvents(this.transport, id, { ...options, ...this.retry });
  }

  /** The run's final record, once it has finished. */
  async wait(id: string, options: WaitOptions = {}): Promise<RunRecord> {
    const timeout = options.timeoutMs !== undefined ? AbortSignal.timeout(options.timeoutMs) : undefined;
    const signals = [options.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    try {
      const current = await this.get(id, signal ? { signal } : {});
      if (current.status === 'succeeded' || current.status === 'failed' || current.status === 'cancelled') {
        return current;
      }
      for await (const event of this.stream(id, signal ? { signal } : {})) {
        if (terminalEventTypes.includes(event.type)) break;
      }
      // The lifecycle writes the final record before the terminal event: this read sees it.
      return await this.get(id, signal ? { signal } : {});
    } catch (err) {
      if (timeout?.aborted && !options.signal?.aborted) {
        throw new BatonTimeoutError(`Run ${id} did not finish within ${options.timeoutMs} ms.`);
      }
      throw err;
    }
  }
}
