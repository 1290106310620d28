/** Queue names and Redis keys that tools outside the code rely on (KEDA scale rules, dashboards). */
export const RUNS_QUEUE = 'runs';

/** BullMQ's wait list of the runs queue: a Redis LIST whose length is the backlog (KEDA `listLength`). */
export function runsWaitListKey(prefix: string): string {
  return `${prefix}:${RUNS_QUEUE}:wait`;
}

/** BullMQ's active list of the runs queue: a Redis LIST whose length is the runs in flight (KEDA `listLength`). */
export function runsActiveListKey(prefix: string): string {
  return `${prefix}:${RUNS_QUEUE}:active`;
}

/** The queue of online evaluations: finished runs the judge grades, off the runs' own path. */
export const EVALS_QUEUE = 'evals';

/** The queue of webhook deliveries: one job per delivery, retried with backoff on its own. */
export const WEBHOOKS_QUEUE = 'webhooks';
