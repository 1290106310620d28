import { neverAborted, type RunAbortSignal } from '../core/abort.js';
import { DeadlineExceededError, RunCancelledError, RunInterruptedError } from '../core/errors.js';

/** The run's one abort signal: cancellation and the deadline abort it; a drain stops the run at a step boundary. */
export interface RunSignal {
  readonly signal: RunAbortSignal;
  /** When the deadline passes (ms since epoch); undefined without a deadline. */
  readonly deadlineAt: number | undefined;
  /** Throws when the run must stop before its next step (aborted, or the worker is draining). */
  boundary(): void;
  dispose(): void;
}

export function runSignal(options: {
  cancel: AbortSignal | undefined;
  drain: AbortSignal | undefined;
  deadlineMs: number | undefined;
  /** How long the run has been going already (earlier attempts count against the deadline). */
  elapsedMs: number;
}): RunSignal {
  const { cancel, drain, deadlineMs } = options;
  const boundary = (signal: RunAbortSignal) => () => {
    signal.throwIfAborted();
    if (drain?.aborted) throw new RunInterruptedError();
  };
  if (deadlineMs === undefined) {
    // Only cancellation can abort the run: its signal (the worker's, one per attempt) is the run's, and without one
    // nothing can (src/core/abort.ts: no AbortSignal is made for it).
    const signal = cancel ?? neverAborted;
    return { signal, deadlineAt: undefined, boundary: boundary(signal), dispose: () => {} };
  }
  const controller = new AbortController();
  const onCancel = () => controller.abort(cancel?.reason ?? new RunCancelledError());
  if (cancel?.aborted) onCancel();
  else cancel?.addEventListener('abort', onCancel, { once: true });
  const remaining = deadlineMs - options.elapsedMs;
  const expire = () => controller.abort(new DeadlineExceededError(deadlineMs));
  let deadline: NodeJS.Timeout | undefined;
  if (remaining <= 0) expire();
  else deadline = setTimeout(expire, remaining);
  return {
    signal: controller.signal,
    deadlineAt: Date.now() + remaining,
    boundary: boundary(controller.signal),
    dispose() {
      clearTimeout(deadline);
      cancel?.removeEventListener('abort', onCancel);
    },
  };
}
