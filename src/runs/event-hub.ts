import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { compareStreamIds, type StoredEvent, storedEvents } from './events.js';
import { isClusterPrefix, runIdOfEventsKey, runKeys } from './keys.js';

/** What a follower gets next: new events, `idle` (nothing for a while: time to look at the run), or `closed`. */
export type FollowUpdate =
  | { kind: 'events'; events: StoredEvent[] }
  | { kind: 'idle' }
  | { kind: 'closed' }
  | { kind: 'error'; error: Error };

export interface RunFollower {
  /** The next update; resolves `closed` once `close()` was called. */
  next(): Promise<FollowUpdate>;
  /** Stops following; a pending `next()` resolves `closed`. Safe to call twice. */
  close(): void;
}

export interface EventHubSettings {
  /** How long one XREAD blocks; new followers join the read within this time. */
  blockMs?: number;
  /** A follower with no new event for this long gets an `idle` update. */
  idleMs?: number;
  /** Entries read per stream per round. */
  count?: number;
  /**
   * Where one blocking read cannot cover every followed stream (see the class), the pause between rounds that
   * found nothing new.
   */
  pollMs?: number;
  /**
   * A second connection that ends a blocked read when a follower of a stream not in it arrives (`CLIENT
   * UNBLOCK`), so a new follower joins at once instead of within `blockMs`.
   */
  control?: Redis;
}

interface Follower {
  key: string;
  cursor: string;
  queue: FollowUpdate[];
  waiting: ((update: FollowUpdate) => void) | undefined;
  lastNewsAt: number;
  closed: boolean;
}

/**
 * Follows the event streams of many runs over ONE blocking Redis connection: a single loop reads every followed
 * stream with one `XREAD BLOCK`, from the oldest cursor any follower of that stream has, and hands each follower
 * the entries after its own cursor. A stream of server-sent events therefore costs no connection of its own, and
 * the number of connections stays one however many clients follow runs. With no followers the loop stops (and the
 * connection sits idle).
 *
 * A new follower joins the next round: at once when the hub has a control connection to end the blocked read,
 * otherwise within `blockMs`; nothing is lost meanwhile because rounds read from cursors.
 *
 * In the Redis Cluster key layout each run's stream has a slot of its own, and one command may not read two
 * slots: there, and on a cluster connection (which cannot end a blocked read on the right node), a round reads
 * each stream without blocking, all at once, and pauses `pollMs` when nothing was new (a new follower ends the
 * pause). One followed stream on a single Redis is still read blocking.
 */
export class RunEventHub {
  private readonly followers = new Map<string, Set<Follower>>();
  private readonly blockMs: number;
  private readonly idleMs: number;
  private readonly count: number;
  private readonly pollMs: number;
  private readonly control: Redis | undefined;
  private loop: Promise<void> | undefined;
  private closed = false;
  /** The reading connection's client id (for `CLIENT UNBLOCK`); read again after a reconnect. */
  private clientId: number | undefined;
  /** The streams of the read that is blocked (or the round that pauses) now; undefined while none is. */
  private blockedOn: ReadonlySet<string> | undefined;
  /** Ends the pause of a polling round early. */
  private endPause: (() => void) | undefined;

  constructor(
    private readonly connection: Redis,
    private readonly prefix: string,
    private readonly log: Logger,
    settings: EventHubSettings = {},
  ) {
    this.blockMs = settings.blockMs ?? 500;
    this.idleMs = settings.idleMs ?? 5_000;
    this.count = settings.count ?? 100;
    this.pollMs = settings.pollMs ?? 25;
    this.control = settings.control;
    connection.on('ready', () => {
      this.clientId = undefined;
    });
  }

  /** How many followers are attached now (all runs). */
  get size(): number {
    let n = 0;
    for (const set of this.followers.values()) n += set.size;
    return n;
  }

  /** Follows run `runId`'s events after stream id `afterId` (exclusive; '0' for all). */
  follow(runId: string, afterId: string): RunFollower {
    if (this.closed) throw new Error('the event hub is closed');
    const follower: Follower = {
      key: runKeys(this.prefix, runId).events,
      cursor: afterId,
      queue: [],
      waiting: undefined,
      lastNewsAt: Date.now(),
      closed: false,
    };
    let set = this.followers.get(follower.key);
    if (!set) {
      set = new Set();
      this.followers.set(follower.key, set);
    }
    set.add(follower);
    this.start();
    if (this.blockedOn && !this.blockedOn.has(follower.key)) this.wake();
    return {
      next: () => {
        const queued = follower.queue.shift();
        if (queued) return Promise.resolve(queued);
        if (follower.closed) return Promise.resolve({ kind: 'closed' });
        return new Promise((resolve) => {
          follower.waiting = resolve;
        });
      },
      close: () => this.detach(follower),
    };
  }

  /** Stops the loop and ends every follower. The connection belongs to the caller. */
  async close(): Promise<void> {
    this.closed = true;
    for (const set of this.followers.values()) for (const f of set) this.detach(f);
    if (this.blockedOn) this.wake();
    await this.loop;
  }

  private detach(follower: Follower): void {
    if (follower.closed) return;
    follower.closed = true;
    const set = this.followers.get(follower.key);
    set?.delete(follower);
    if (set?.size === 0) this.followers.delete(follower.key);
    this.deliver(follower, { kind: 'closed' });
  }

  private deliver(follower: Follower, update: FollowUpdate): void {
    const waiting = follower.waiting;
    if (waiting) {
      follower.waiting = undefined;
      waiting(update);
      return;
    }
    if (update.kind === 'closed') return;
    // Idle and error updates say the same thing twice: one waiting is enough.
    if (update.kind !== 'events' && follower.queue.at(-1)?.kind === update.kind) return;
    follower.queue.push(update);
  }

  /** The entries that parse as events; an unreadable one is logged and skipped. */
  private parse(key: string, entries: [string, string[]][]): StoredEvent[] {
    const events: StoredEvent[] = [];
    for (const entry of entries) {
      try {
        events.push(...storedEvents(runIdOfEventsKey(this.prefix, key), [entry]));
      } catch (err) {
        this.log.warn(
          { stream: key, entry: entry[0], err: (err as Error).message },
          'unreadable run event skipped',
        );
      }
    }
    return events;
  }

  /** Ends the blocked read (it returns as if it timed out), so the next round includes the new follower. */
  private wake(): void {
    if (this.endPause) {
      this.endPause();
      return;
    }
    if (!this.control || this.clientId === undefined) return;
    this.blockedOn = undefined;
    this.control.client('UNBLOCK', this.clientId).catch((err: unknown) => {
      this.log.debug({ err: (err as Error).message }, 'could not wake the event reader');
    });
  }

  private start(): void {
    if (this.loop) return;
    this.loop = this.run().finally(() => {
      this.loop = undefined;
      // A follower may have arrived as the loop was ending.
      if (!this.closed && this.followers.size > 0) this.start();
    });
  }

  private async run(): Promise<void> {
    while (!this.closed && this.followers.size > 0) {
      const keys = [...this.followers.keys()];
      let reply: StreamReply;
      try {
        reply = this.oneBlockingRead(keys) ? await this.readBlocking(keys) : await this.readEach(keys);
      } catch (err) {
        this.blockedOn = undefined;
        if (this.closed) return;
        // Redis restarting or unreachable: followers hear about it and may end; the loop tries again shortly.
        this.log.warn({ err: (err as Error).message }, 'reading run events failed');
        for (const set of this.followers.values()) {
          for (const f of set) this.deliver(f, { kind: 'error', error: err as Error });
        }
        await new Promise((resolve) => setTimeout(resolve, this.blockMs));
        continue;
      }
      const now = Date.now();
      for (const [key, entries] of reply) {
        const set = this.followers.get(key);
        if (!set || entries.length === 0) continue;
        const events = this.parse(key, entries);
        const lastId = entries.at(-1)?.[0] ?? '0';
        for (const f of set) {
          if (compareStreamIds(lastId, f.cursor) <= 0) continue;
          const fresh = events.filter((e) => compareStreamIds(e.id, f.cursor) > 0);
          // The cursor passes unreadable entries too, so one bad entry cannot make every round return at once.
          f.cursor = lastId;
          if (fresh.length === 0) continue;
          f.lastNewsAt = now;
          this.deliver(f, { kind: 'events', events: fresh });
        }
      }
      for (const set of this.followers.values()) {
        for (const f of set) {
          if (now - f.lastNewsAt >= this.idleMs) {
            f.lastNewsAt = now;
            this.deliver(f, { kind: 'idle' });
          }
        }
      }
    }
  }

  /** Whether one blocking XREAD can read `keys`: a single Redis, and one slot for them all. */
  private oneBlockingRead(keys: readonly string[]): boolean {
    return !this.connection.isCluster && (keys.length === 1 || !isClusterPrefix(this.prefix));
  }

  private cursorOf(key: string): string {
    return oldestCursor(this.followers.get(key));
  }

  /** One XREAD BLOCK over every stream, ended early by `wake()`. */
  private async readBlocking(keys: readonly string[]): Promise<StreamReply> {
    if (this.control && this.clientId === undefined) {
      this.clientId = Number(await this.connection.client('ID'));
    }
    this.blockedOn = new Set(keys);
    const cursors = keys.map((key) => this.cursorOf(key));
    const reply = (await this.connection.xread(
      'COUNT',
      this.count,
      'BLOCK',
      this.blockMs,
      'STREAMS',
      ...keys,
      ...cursors,
    )) as StreamReply | null;
    this.blockedOn = undefined;
    return reply ?? [];
  }

  /** One XREAD per stream, all at once; when none had anything new, a pause that `wake()` ends. */
  private async readEach(keys: readonly string[]): Promise<StreamReply> {
    const replies = await Promise.all(
      keys.map(
        (key) =>
          this.connection.xread(
            'COUNT',
            this.count,
            'STREAMS',
            key,
            this.cursorOf(key),
          ) as Promise<StreamReply | null>,
      ),
    );
    const reply = replies.flatMap((r) => r ?? []);
    if (reply.length === 0 && !this.closed) {
      this.blockedOn = new Set(keys);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => this.endPause?.(), this.pollMs);
        this.endPause = () => {
          clearTimeout(timer);
          this.endPause = undefined;
          resolve();
        };
      });
      this.blockedOn = undefined;
    }
    return reply;
  }
}

/** What XREAD answers: per stream, its entries. */
type StreamReply = [string, [string, string[]][]][];

function oldestCursor(set: Set<Follower> | undefined): string {
  let oldest: string | undefined;
  for (const f of set ?? [])
    if (oldest === undefined || compareStreamIds(f.cursor, oldest) < 0) oldest = f.cursor;
  return oldest ?? '0';
}
