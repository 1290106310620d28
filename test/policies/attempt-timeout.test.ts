import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { withTimeout } from '../../src/policies/attempt-timeout.js';

class TimedOut extends Error {}
const timedOut = () => new TimedOut('timed out');
const never = () => new Promise<never>(() => {});

describe('withTimeout', () => {
  it('returns what the call answers and leaves no listener on the parent', async () => {
    const parent = new AbortController();
    await expect(withTimeout(1_000, parent.signal, timedOut, async () => 'answer')).resolves.toBe('answer');
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
  });

  it('passes the call’s own error through', async () => {
    const parent = new AbortController();
    const failure = new Error('refused');
    await expect(
      withTimeout(1_000, parent.signal, timedOut, async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
  });

  it('abandons a call that ignores its signal when the time is up, and aborts that signal', async () => {
    let seen: AbortSignal | undefined;
    const pending = withTimeout(20, new AbortController().signal, timedOut, (attempt) => {
      seen = attempt.signal;
      return never();
    });
    await expect(pending).rejects.toBeInstanceOf(TimedOut);
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBeInstanceOf(TimedOut);
  });

  it('reports the timeout, not the error a call throws on seeing its signal abort', async () => {
    const pending = withTimeout(
      20,
      new AbortController().signal,
      timedOut,
      (attempt) =>
        new Promise<never>((_, reject) => {
          attempt.signal.addEventListener('abort', () => reject(new Error('AbortError from the client')));
        }),
    );
    await expect(pending).rejects.toBeInstanceOf(TimedOut);
  });

  it('gives a signal read after the timeout already aborted', async () => {
    let late: AbortSignal | undefined;
    let readLate: () => void = () => {};
    const reading = new Promise<void>((resolve) => {
      readLate = resolve;
    });
    const pending = withTimeout(10, new AbortController().signal, timedOut, (attempt) => {
      // Reads its signal only once the timeout has fired.
      setTimeout(() => {
        late = attempt.signal;
        readLate();
      }, 40);
      return never();
    });
    await expect(pending).rejects.toBeInstanceOf(TimedOut);
    await reading;
    expect(late?.aborted).toBe(true);
    expect(late?.reason).toBeInstanceOf(TimedOut);
  });

  it('never starts a call whose parent is already aborted', async () => {
    const parent = new AbortController();
    parent.abort(new Error('run cancelled'));
    let started = false;
    await expect(
      withTimeout(1_000, parent.signal, timedOut, async () => {
        started = true;
        return 'answer';
      }),
    ).rejects.toThrow('run cancelled');
    expect(started).toBe(false);
  });

  it('ends the wait and aborts the call when the parent is aborted meanwhile', async () => {
    const parent = new AbortController();
    let seen: AbortSignal | undefined;
    let begun: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      begun = resolve;
    });
    const pending = withTimeout(60_000, parent.signal, timedOut, (attempt) => {
      seen = attempt.signal;
      begun();
      return never();
    });
    await started;
    parent.abort(new Error('run cancelled'));
    await expect(pending).rejects.toThrow('run cancelled');
    expect(seen?.aborted).toBe(true);
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
  });
});
