import { afterEach, describe, expect, it, vi } from 'vitest';
import { abortSignalOf, cockatielSignal, neverAborted } from '../../src/core/abort.js';
import { DeadlineExceededError, RunCancelledError, RunInterruptedError } from '../../src/core/errors.js';
import { runSignal } from '../../src/engine/run-signal.js';

describe("a run's abort signal", () => {
  afterEach(() => vi.useRealTimers());

  it("without a deadline is the cancellation's own signal: aborted with its reason, at once", () => {
    const cancel = new AbortController();
    const run = runSignal({ cancel: cancel.signal, drain: undefined, deadlineMs: undefined, elapsedMs: 0 });
    expect(run.signal.aborted).toBe(false);
    expect(() => run.boundary()).not.toThrow();
    const reason = new RunCancelledError();
    cancel.abort(reason);
    expect(run.signal.reason).toBe(reason);
    expect(() => run.boundary()).toThrow(reason);
    run.dispose();
  });

  it('is aborted by the deadline, counting the time earlier attempts took, or by cancellation first', () => {
    vi.useFakeTimers();
    const cancel = new AbortController();
    const late = runSignal({ cancel: cancel.signal, drain: undefined, deadlineMs: 1_000, elapsedMs: 400 });
    expect(late.deadlineAt).toBe(Date.now() + 600);
    vi.advanceTimersByTime(599);
    expect(late.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(late.signal.reason).toBeInstanceOf(DeadlineExceededError);
    late.dispose();

    const cancelled = runSignal({ cancel: cancel.signal, drain: undefined, deadlineMs: 1_000, elapsedMs: 0 });
    expect(cancelled.signal.aborted).toBe(false);
    const reason = new RunCancelledError();
    cancel.abort(reason);
    expect(cancelled.signal.reason).toBe(reason);
    cancelled.dispose();
    // A deadline already passed aborts the run before it starts.
    const spent = runSignal({ cancel: undefined, drain: undefined, deadlineMs: 1_000, elapsedMs: 1_000 });
    expect(spent.signal.reason).toBeInstanceOf(DeadlineExceededError);
  });

  it('with nothing that can abort it, makes no AbortSignal and keeps no listener', () => {
    const a = runSignal({ cancel: undefined, drain: undefined, deadlineMs: undefined, elapsedMs: 0 });
    expect(a.signal).toBe(neverAborted);
    expect(a.signal).not.toBeInstanceOf(AbortSignal);
    expect(a.deadlineAt).toBeUndefined();
    expect(() => a.boundary()).not.toThrow();
    // Where a real signal is needed (HTTP, AbortSignal.any), each use gets a new one: none shared by runs, which
    // on Node 20 would collect a reference for every AbortSignal.any made from it.
    const first = abortSignalOf(a.signal);
    expect(first).toBeInstanceOf(AbortSignal);
    expect(first.aborted).toBe(false);
    expect(abortSignalOf(a.signal)).not.toBe(first);
    expect(cockatielSignal(a.signal)).toBeUndefined();
    // A run's real signal passes through as it is.
    const cancel = new AbortController();
    const b = runSignal({ cancel: cancel.signal, drain: undefined, deadlineMs: undefined, elapsedMs: 0 });
    expect(abortSignalOf(b.signal)).toBe(cancel.signal);
    expect(cockatielSignal(b.signal)).toBe(cancel.signal);
  });

  it('a draining worker stops the run at its next step boundary, without aborting it', () => {
    const drain = new AbortController();
    const run = runSignal({ cancel: undefined, drain: drain.signal, deadlineMs: undefined, elapsedMs: 0 });
    drain.abort();
    expect(() => run.boundary()).toThrow(RunInterruptedError);
    expect(run.signal.aborted).toBe(false);
  });
});
