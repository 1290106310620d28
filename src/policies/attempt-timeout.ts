import type { RunAbortSignal } from '../core/abort.js';

/** What a call under `withTimeout` is given: its abort signal, made the first time it is read. */
export interface AttemptSignal {
  readonly signal: AbortSignal;
}

/**
 * Runs `call` under a timeout and under `parent`'s cancellation. Either one aborts the call itself (its signal)
 * and ends the wait at once, so a call that ignores its signal is abandoned, not awaited. A timeout rejects with
 * `timeoutError()`, also when the call, seeing its signal abort, rejects first with an error of its own; a
 * cancellation rejects with what the call or the parent gives (the agent runtime reports the parent's reason).
 *
 * The call's AbortSignal is made only when the call reads it. On Node 20 making an AbortSignal costs about 4 µs and
 * the signal outlives young-generation collections, carrying what it references into the old generation
 * (docs/benchmarks.md): that was a fifth of an in-process step whose model answers from memory and never reads
 * its signal. A provider that sends a request reads it and pays that once per request.
 */
export async function withTimeout<T>(
  timeoutMs: number,
  parent: RunAbortSignal,
  timeoutError: () => Error,
  call: (attempt: AttemptSignal) => Promise<T>,
): Promise<T> {
  parent.throwIfAborted();
  let rejectWait: (reason: unknown) => void = () => {};
  const stoppedEarly = new Promise<never>((_, reject) => {
    rejectWait = reject;
  });
  const attempt = new AttemptAbort(rejectWait);
  const timer = setTimeout(() => attempt.stop(timeoutError(), true), timeoutMs);
  const onParentAbort = () => attempt.stop(parent.reason, false);
  parent.addEventListener('abort', onParentAbort);
  try {
    return await Promise.race([call(attempt), stoppedEarly]);
  } catch (err) {
    throw attempt.stopped?.timedOut ? attempt.stopped.reason : err;
  } finally {
    clearTimeout(timer);
    parent.removeEventListener('abort', onParentAbort);
  }
}

/**
 * One call's abort: its signal is made the first time it is read, and `stop` aborts it and ends the wait. A class
 * rather than an object literal with a getter: V8 gives every such literal whose getter is a new closure a map of
 * its own, in the old generation, and that map keeps the closure — and through it the whole call in flight — alive
 * until a full collection (docs/benchmarks.md, "Getters that kept every step alive").
 */
class AttemptAbort implements AttemptSignal {
  #controller: AbortController | undefined;
  stopped: { reason: unknown; timedOut: boolean } | undefined;

  constructor(private readonly endWait: (reason: unknown) => void) {}

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.stopped) this.#controller.abort(this.stopped.reason);
    }
    return this.#controller.signal;
  }

  stop(reason: unknown, timedOut: boolean): void {
    if (this.stopped) return;
    this.stopped = { reason, timedOut };
    this.#controller?.abort(reason);
    this.endWait(reason);
  }
}
