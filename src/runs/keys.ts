/**
 * Redis key layout of run state; one place so the API, worker and retention agree.
 *
 * Two layouts, chosen by the prefix. A plain prefix (`baton`) names keys as they always were. A prefix that is a
 * hash tag (`{baton}`, what a Redis Cluster needs) puts every key that is not one run's in that tag's slot — the
 * indexes, tenants, queues, registry and fleet limits, which scripts and transactions use together — and gives
 * each run's keys a tag of their own, the run id (`baton:run:{<id>}:journal`), so runs spread over the shards
 * while the keys of one run stay in one slot for the scripts that write them together.
 */
export function runKeys(prefix: string, runId: string) {
  const base = runBase(prefix, runId);
  return {
    record: base,
    journal: `${base}:journal`,
    events: `${base}:events`,
    feedback: `${base}:feedback`,
    /** Webhook delivery attempts, oldest first. */
    deliveries: `${base}:deliveries`,
  };
}

/** Whether `prefix` is a hash tag: the layout for Redis Cluster (see `runKeys`). */
export function isClusterPrefix(prefix: string): boolean {
  return prefix.startsWith('{') && prefix.endsWith('}');
}

function runBase(prefix: string, runId: string): string {
  return isClusterPrefix(prefix) ? `${prefix.slice(1, -1)}:run:{${runId}}` : `${prefix}:run:${runId}`;
}

/** The run whose event stream is `key` (a key `runKeys(prefix, id).events` made). */
export function runIdOfEventsKey(prefix: string, key: string): string {
  const [head, tail] = isClusterPrefix(prefix)
    ? [`${prefix.slice(1, -1)}:run:{`, '}:events']
    : [`${prefix}:run:`, ':events'];
  return key.slice(head.length, -tail.length);
}

export function indexKeys(prefix: string) {
  return {
    all: `${prefix}:runs`,
    byOwner: (owner: string) => `${prefix}:runs:owner:${owner}`,
    idempotency: (owner: string, key: string) => `${prefix}:idem:${owner}:${key}`,
    cancelChannel: `${prefix}:cancel`,
    /** Runs not finished yet (queued or running), scored by when they were queued: what the reconciler walks. */
    live: `${prefix}:index:live`,
    /** Every key id that has created a run (the per-tenant view lists them). */
    tenants: `${prefix}:tenants`,
    /** Held by the worker that reconciles runs with their jobs during one interval. */
    reconciler: `${prefix}:reconciler`,
  };
}

/** Per-tenant (API key id) keys: runs in flight, runs created in the last minute, tokens used per UTC day. */
export function tenantKeys(prefix: string, owner: string) {
  const base = `${prefix}:tenant:${owner}`;
  return {
    live: `${base}:live`,
    perMinute: `${base}:per-minute`,
    tokens: (day: string) => `${base}:tokens:${day}`,
  };
}

/** The UTC day of `ms` as `YYYY-MM-DD` (the tokens-per-day counters are per UTC day). */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * What outlives runs (BATON_LLMOPS_RETENTION_SECONDS): online evaluation scores per run, and the feedback log
 * every feedback entry is copied to, scored by time.
 */
export function llmopsKeys(prefix: string) {
  return {
    evaluations: (runId: string) => `${prefix}:llmops:evaluations:${runId}`,
    feedbackLog: `${prefix}:llmops:feedback`,
    evaluationLog: `${prefix}:llmops:evaluations-log`,
    /** Tokens the online judge spent in one UTC hour (`YYYY-MM-DDTHH`). */
    judgeTokens: (hour: string) => `${prefix}:llmops:judge-tokens:${hour}`,
  };
}
