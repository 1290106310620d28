import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RunCancelledError, toErrorInfo } from '../core/errors.js';
import type { RunLifecycle } from '../lifecycle/lifecycle.js';
import { indexKeys } from '../runs/keys.js';
import type { ActiveAttempts } from './attempts.js';

/**
 * Cancels reach the worker running the run over a Redis channel, and it aborts the run. A message published while
 * this worker's subscription was down (Redis restarted) is lost, so the cancel flag of the runs executing here is
 * also read every `pollMs`.
 */
export async function watchCancels(options: {
  subscriber: Redis;
  prefix: string;
  lifecycle: RunLifecycle;
  attempts: ActiveAttempts;
  log: Logger;
  pollMs: number;
}): Promise<() => Promise<void>> {
  const { subscriber, attempts, log } = options;
  const channel = indexKeys(options.prefix).cancelChannel;
  const cancel = (runId: string, how: string) => {
    if (attempts.abort(runId, new RunCancelledError()))
      log.info({ runId, how }, 'cancel received; aborting the run');
  };
  await subscriber.subscribe(channel);
  subscriber.on('message', (from, runId) => {
    if (from === channel) cancel(runId, 'channel');
  });
  let polling = false;
  const timer = setInterval(() => {
    const ids = attempts.runIds();
    if (polling || ids.length === 0) return;
    polling = true;
    options.lifecycle
      .cancelRequested(ids)
      .then((cancelled) => {
        for (const runId of cancelled) cancel(runId, 'flag');
      })
      .catch((err: unknown) => log.warn({ err: toErrorInfo(err) }, 'could not read cancel requests'))
      .finally(() => {
        polling = false;
      });
  }, options.pollMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await subscriber.unsubscribe(channel).catch(() => {});
  };
}
