/** Redis key layout of run state; one place so the API, worker and retention agree. */
export function runKeys(prefix: string, runId: string) {
  const base = `${prefix}:run:${runId}`;
  return { record: base, journal: `${base}:journal`, events: `${base}:events`, feedback: `${base}:feedback` };
}

export function indexKeys(prefix: string) {
  return {
    all: `${prefix}:runs`,
    byOwner: (owner: string) => `${prefix}:runs:owner:${owner}`,
    idempotency: (owner: string, key: string) => `${prefix}:idem:${owner}:${key}`,
    cancelChannel: `${prefix}:cancel`,
  };
}
