import { eventIdSchema } from '../runs/events.js';
import { followRunEvents } from '../runs/follow.js';
import type { StoredRun } from '../runs/store.js';
import type { ApiDeps } from './deps.js';

/** `Last-Event-ID`: an event id this API sent; anything else is a 400, never a Redis error. */
export const lastEventIdSchema = eventIdSchema.describe('Resume after this event id (an SSE `id:`).');

/** A run's events as server-sent event messages (`id:` the stream id, `event:` the type, `data:` the event). */
export function followRun(deps: ApiDeps, run: StoredRun, afterId: string) {
  const follow = followRunEvents(deps, { id: run.record.id, status: run.record.status }, afterId);
  async function* messages() {
    for await (const { id, event } of follow.events) yield { id, event: event.type, data: event };
  }
  return { events: messages(), stop: () => follow.stop() };
}
