import type { Redis } from 'ioredis';
import { z } from 'zod';
import { type RunEvent, type RunEventInput, runEventSchema } from '../core/events.js';
import { isoTime } from '../core/time.js';
import { withoutTracing } from '../telemetry/tracing.js';
import { runKeys } from './keys.js';

export interface StoredEvent {
  /** Redis stream id, used as the SSE event id (`Last-Event-ID`). */
  id: string;
  event: RunEvent;
}

/** Where a run's events go. The engine only appends; the API reads. */
export interface EventSink {
  append(runId: string, event: RunEventInput): Promise<void>;
}

export const MAX_EVENTS_PER_RUN = 10_000;

/**
 * The event with its run id and time (these win over any the event carries). The stamp goes first: spreading an
 * event (each type has its own shape) and then adding properties is V8's slow path, and made this copy a tenth of
 * an in-process step (`docs/benchmarks.md`).
 */
export function stampEvent(runId: string, event: RunEventInput): RunEvent {
  const at = isoTime();
  if ('runId' in event || 'at' in event) return { ...event, runId, at } as RunEvent;
  return { runId, at, ...event } as RunEvent;
}

/**
 * The stream entry of an event: the event stamped with its time, without the run id — the stream is the run's
 * own, so reading puts the id back (`storedEvents`). Over a run's events that is a fifth of the stream's memory.
 */
export function encodeStoredEvent(event: RunEventInput): string {
  // The time is spliced into the event's JSON (an object, so it ends with `}` and is never empty: it has a type)
  // instead of encoding a copy of the event: copying an event is V8's slow path (see `stampEvent`).
  const json = JSON.stringify(event);
  return `${json.slice(0, -1)},"at":"${isoTime()}"}`;
}

/** A Redis stream per run (capped), expired with the rest of the run's keys. */
export class RedisEventLog implements EventSink {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async append(runId: string, event: RunEventInput): Promise<void> {
    const key = runKeys(this.prefix, runId).events;
    // One XADD per streamed delta would flood the run's trace with Redis spans: deltas are not traced.
    if (event.type === 'agent.delta') {
      await withoutTracing(() => this.write(key, event));
      return;
    }
    await this.write(key, event);
  }

  private async write(key: string, event: RunEventInput): Promise<void> {
    await this.redis.xadd(key, 'MAXLEN', '~', MAX_EVENTS_PER_RUN, '*', 'e', encodeStoredEvent(event));
  }

  /** Events after `afterId` (exclusive; '0' for all). With `blockMs`, waits that long for the first new one. */
  async read(
    runId: string,
    afterId: string,
    options: { count?: number; blockMs?: number; connection?: Redis } = {},
  ): Promise<StoredEvent[]> {
    const key = runKeys(this.prefix, runId).events;
    const count = options.count ?? 500;
    const conn = options.connection ?? this.redis;
    const reply =
      options.blockMs !== undefined
        ? await conn.xread('COUNT', count, 'BLOCK', options.blockMs, 'STREAMS', key, afterId)
        : await conn.xread('COUNT', count, 'STREAMS', key, afterId);
    return storedEvents(runId, reply?.[0]?.[1] ?? []);
  }
}

/** Stream entries of run `runId` (`[id, ['e', json]]`, as XREAD returns them) as events. */
export function storedEvents(runId: string, entries: readonly [string, string[]][]): StoredEvent[] {
  return entries.map(([id, fields]) => ({
    id,
    // Entries written before the run id was left out carry it already; it is the same id.
    event: runEventSchema.parse({ ...JSON.parse(fields[1] ?? '{}'), runId }),
  }));
}

/** Compares two Redis stream ids (`<ms>-<seq>`) as the numbers they are: negative, zero or positive. */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

/** Collects events in memory (unit tests, evals). */
export class MemoryEventLog implements EventSink {
  readonly events: RunEvent[] = [];
  async append(runId: string, event: RunEventInput): Promise<void> {
    this.events.push(stampEvent(runId, event));
  }
  types(): string[] {
    return this.events.map((e) => e.type);
  }
}

/**
 * A stream id a client may resume from (`Last-Event-ID`): `<ms>-<seq>`, each part a whole number Redis and
 * JavaScript both hold exactly (at most 15 digits). Anything else is refused rather than handed to Redis.
 */
export const eventIdSchema = z
  .string()
  .regex(/^\d{1,15}-\d{1,15}$/, 'must be an event id this API sent (<milliseconds>-<sequence>)');
