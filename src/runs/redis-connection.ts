import calculateSlot from 'cluster-key-slot';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';

/** How this process reaches Redis: one server, or a Redis Cluster through one or more of its nodes. */
export interface RedisTarget {
  /** `redis://` or `rediss://` URL of the server, or (cluster) of the nodes to discover the cluster from. */
  url: string;
  cluster: boolean;
}

/**
 * A connection to `target` with `options`. On a Redis Cluster it is an ioredis `Cluster` (each command goes to
 * the node that serves its key's slot; `MOVED` after a failover or a resharding is followed), typed as a
 * `Redis`: both carry the same commands, which is all the rest of the service uses, and BullMQ takes either.
 * The URL's user, password and TLS (`rediss://`) apply to every node of the cluster.
 */
export function openRedis(target: RedisTarget, options: RedisOptions): Redis {
  if (!target.cluster) return new Redis(target.url, options);
  const seeds = target.url.split(',').map((u) => new URL(u.trim()));
  const [first] = seeds;
  const nodeOptions: RedisOptions = {
    ...options,
    ...(first?.username ? { username: decodeURIComponent(first.username) } : {}),
    ...(first?.password ? { password: decodeURIComponent(first.password) } : {}),
    ...(first?.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  const { enableOfflineQueue, ...redisOptions } = nodeOptions;
  const clusterOptions: ClusterOptions = {
    redisOptions,
    ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
    // A failover moves slots to a replica within seconds: keep following the cluster meanwhile.
    clusterRetryStrategy: (times) => Math.min(100 * times, 2_000),
  };
  const cluster = new Cluster(
    seeds.map((u) => ({ host: u.hostname, port: Number(u.port || 6379) })),
    clusterOptions,
  );
  // A Cluster offers the commands a Redis does; the two classes share no declared type ioredis exports for them.
  return cluster as unknown as Redis;
}

/**
 * Waits until `replicas` replicas hold every write `redis` has sent to the master of `key` (Redis `WAIT`, at most
 * `timeoutMs`) and returns how many do. `WAIT` speaks for one connection to one server: on a cluster it goes to
 * the connection of the node that serves the key's slot.
 */
export async function waitForReplicas(
  redis: Redis,
  key: string,
  replicas: number,
  timeoutMs: number,
): Promise<number> {
  return Number(await masterConnection(redis, key).call('WAIT', replicas, timeoutMs));
}

function masterConnection(redis: Redis, key: string): Redis {
  if (!redis.isCluster) return redis;
  // The other branch of openRedis: a cluster typed as a Redis.
  const cluster = redis as unknown as Cluster;
  const nodeKey = cluster.slots[calculateSlot(key)]?.[0];
  const node = cluster.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === nodeKey);
  if (!node) throw new Error(`no connection to the master of slot ${calculateSlot(key)} yet`);
  return node;
}
