import type { Redis } from 'ioredis';

/**
 * The team registry in Redis. Versions are immutable: a version is stored once under its content hash and never
 * changed; what changes is which version is current (or that none is: the team is retired).
 *
 * Keys (`<prefix>` is BATON_REDIS_PREFIX):
 * - `<prefix>:teams` — set of team names the registry knows;
 * - `<prefix>:team:<name>` — hash: `current` (a version, absent when retired), `updatedAt`, `updatedBy`, `retiredAt`;
 * - `<prefix>:team:<name>:versions` — hash: version → JSON of the stored version (documents and who stored it);
 * - `<prefix>:team:<name>:order` — list of versions in the order they were first stored.
 */

export type VersionSource = 'api' | 'file';

export interface StoredVersion {
  version: string;
  /** The document as it was registered (or as the file held it). */
  document: Record<string, unknown>;
  /** The same team with every default filled in: what runs of this version execute. */
  resolved: Record<string, unknown>;
  source: VersionSource;
  registeredAt: string;
  /** The API key id that registered it, or `file <path>`. */
  registeredBy: string;
}

export type VersionSummary = Omit<StoredVersion, 'document' | 'resolved'>;

export interface TeamHead {
  current?: string;
  updatedAt?: string;
  updatedBy?: string;
  retiredAt?: string;
}

export class TeamRegistryStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private get namesKey(): string {
    return `${this.prefix}:teams`;
  }

  private keys(name: string) {
    const base = `${this.prefix}:team:${name}`;
    return { head: base, versions: `${base}:versions`, order: `${base}:order` };
  }

  /** Stores a version unless it is stored already; true when this call stored it. */
  async add(name: string, entry: StoredVersion): Promise<boolean> {
    const k = this.keys(name);
    const created = (await this.redis.hsetnx(k.versions, entry.version, JSON.stringify(entry))) === 1;
    // Only the call that stored the version appends it, so the order lists each version once.
    if (created) await this.redis.rpush(k.order, entry.version);
    await this.redis.sadd(this.namesKey, name);
    return created;
  }

  async setCurrent(name: string, version: string, by: string): Promise<void> {
    const k = this.keys(name);
    await this.redis
      .multi()
      .hset(k.head, { current: version, updatedAt: new Date().toISOString(), updatedBy: by })
      .hdel(k.head, 'retiredAt')
      .exec();
  }

  /** Retires a team for new runs; the version that was current, or undefined when none was. */
  async retire(name: string, by: string): Promise<string | undefined> {
    const k = this.keys(name);
    const now = new Date().toISOString();
    const [[, current]] = (await this.redis
      .multi()
      .hget(k.head, 'current')
      .hdel(k.head, 'current')
      .hset(k.head, { retiredAt: now, updatedAt: now, updatedBy: by })
      .exec()) as [[Error | null, string | null]];
    return current ?? undefined;
  }

  async head(name: string): Promise<TeamHead | undefined> {
    const head = await this.redis.hgetall(this.keys(name).head);
    return Object.keys(head).length > 0 ? (head as TeamHead) : undefined;
  }

  async get(name: string, version: string): Promise<StoredVersion | undefined> {
    const raw = await this.redis.hget(this.keys(name).versions, version);
    return raw ? (JSON.parse(raw) as StoredVersion) : undefined;
  }

  /** Every stored version of a team, oldest first, without documents. */
  async history(name: string): Promise<VersionSummary[]> {
    const k = this.keys(name);
    const order = await this.redis.lrange(k.order, 0, -1);
    if (order.length === 0) return [];
    const raws = await this.redis.hmget(k.versions, ...order);
    return raws.flatMap((raw) => {
      if (!raw) return [];
      const { document: _d, resolved: _r, ...summary } = JSON.parse(raw) as StoredVersion;
      return [summary];
    });
  }

  async names(): Promise<string[]> {
    return (await this.redis.smembers(this.namesKey)).sort();
  }
}
