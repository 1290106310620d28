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
  parent: AbortSignal,
  timeoutError: () => Error,
  call: (attempt: AttemptSignal) => Promise<T>,
): Promise<T> {
  parent.throwIfAborted();
  let controller: AbortController | undefined;
  let stopped: { reason: unknown; timedOut: boolean } | undefined;
  let rejectWait: (reason: unknown) => void = () => {};
  const stoppedEarly = new Promise<never>((_, reject) => {
    rejectWait = reject;
  });
  const stop = (reason: unknown, timedOut: boolean) => {
    if (stopped) return;
    stopped = { reason, timedOut };
    controller?.abort(reason);
    rejectWait(reason);
  };
  const timer = setTimeout(() => stop(timeoutError(), true), timeoutMs);
  const onParentAbort = () => stop(parent.reason, false);
  parent.addEventListener('abort', onParentAbort);
  const attempt: AttemptSignal = {
    get signal() {
      if (!controller) {
        controller = new AbortController();
        if (stopped) controller.abort(stopped.reason);
      }
      return controller.signal;
    },
  };
  try {
    return await Promise.race([call(attempt), stoppedEarly]);
  } catch (err) {
    throw stopped?.timedOut ? stopped.reason : err;
  } finally {
    clearTimeout(timer);
    parent.removeEventListener('abort', onParentAbort);
  }
}
