/**
 * What the engine and the agent runtime need of a run's abort signal: whether and why it aborted, and a listener
 * for when it does. An AbortSignal is one. A run that nothing can abort (no cancellation, no deadline: in-process
 * runs, evals) has `neverAborted` instead, which is not: on Node 20 making an AbortSignal costs about 4 µs and each
 * one outlives young-generation collections with what it references (docs/benchmarks.md). Where an API needs a
 * real AbortSignal (an HTTP request, `AbortSignal.any`, cockatiel), `abortSignalOf` gives one.
 */
export interface RunAbortSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  throwIfAborted(): void;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** The signal of a run nothing can abort: it never fires, so it keeps no listener. */
export const neverAborted: RunAbortSignal = Object.freeze({
  aborted: false,
  reason: undefined,
  throwIfAborted() {},
  addEventListener() {},
  removeEventListener() {},
});

/** What a cockatiel policy is given to stop on: the run's signal, or none when nothing can abort the run. */
export function cockatielSignal(signal: RunAbortSignal): AbortSignal | undefined {
  return signal === neverAborted ? undefined : (signal as AbortSignal);
}

/**
 * `signal` as an AbortSignal: itself, or, for `neverAborted`, a new signal that never aborts (one per use, never a
 * shared one: Node 20's `AbortSignal.any` keeps a reference in its sources for every signal made from them).
 */
export function abortSignalOf(signal: RunAbortSignal): AbortSignal {
  return signal === neverAborted ? new AbortController().signal : (signal as AbortSignal);
}
