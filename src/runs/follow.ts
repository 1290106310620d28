import { terminalEventTypes } from '../core/events.js';
import type { RunEventHub, RunFollower } from './event-hub.js';
import type { RedisEventLog, StoredEvent } from './events.js';
import type { RunStatus } from './schema.js';
import type { RunStore } from './store.js';

export interface FollowDeps {
  store: RunStore;
  events: RedisEventLog;
  eventHub: RunEventHub;
}

export interface RunEventFollow {
  /** The run's events after the starting id, live ones included, ending after its terminal event. */
  events: AsyncIterable<StoredEvent>;
  /** Ends the iteration (the client went away); safe to call more than once. */
  stop(): void;
}

const isTerminalEvent = (event: StoredEvent) => terminalEventTypes.includes(event.event.type);

/**
 * Follows one run's events from `afterId` until its terminal event. A run that has already ended is read to the
 * end of its stream and the iteration stops — also when `afterId` lies beyond the last event. A live run is
 * followed through the shared event hub; whenever nothing has happened for a while its record is looked at, and
 * the iteration ends when the run ended (or its record is gone) with no terminal event still to come.
 */
export function followRunEvents(
  deps: FollowDeps,
  run: { id: string; status: RunStatus },
  afterId: string,
): RunEventFollow {
  let stopped = false;
  let follower: RunFollower | undefined;

  async function* rest(cursor: string): AsyncGenerator<StoredEvent> {
    for (;;) {
      const batch = await deps.events.read(run.id, cursor);
      if (batch.length === 0 || stopped) return;
      for (const event of batch) {
        cursor = event.id;
        yield event;
        if (isTerminalEvent(event)) return;
      }
    }
  }

  async function* follow(): AsyncGenerator<StoredEvent> {
    let cursor = afterId;
    if (deps.store.isTerminal(run.status)) {
      yield* rest(cursor);
      return;
    }
    follower = deps.eventHub.follow(run.id, cursor);
    try {
      while (!stopped) {
        const update = await follower.next();
        if (update.kind === 'closed') return;
        if (update.kind === 'events') {
          for (const event of update.events) {
            cursor = event.id;
            yield event;
            if (isTerminalEvent(event)) return;
          }
          continue;
        }
        const now = await deps.store.get(run.id);
        if (!now) return;
        if (deps.store.isTerminal(now.record.status)) {
          yield* rest(cursor);
          return;
        }
      }
    } finally {
      follower.close();
    }
  }

  return {
    events: follow(),
    stop() {
      stopped = true;
      follower?.close();
    },
  };
}
