import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { type ClusterNode, startRedisClusterNodes } from '../../bench/support.js';

export interface TestRedisCluster {
  nodes: ClusterNode[];
  /** Every node's URL, comma-separated (what REDIS_URL takes with BATON_REDIS_CLUSTER). */
  urls: string;
  /** The node that serves `key` as master now. */
  masterOf(key: string): Promise<ClusterNode>;
  /** How often the live nodes have run `command` (INFO commandstats), all together. */
  commandCalls(command: string): Promise<number>;
  /** Waits until every live node says the cluster is ok (every slot served: after a failover too). */
  waitUntilOk(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A local Redis Cluster (`startRedisClusterNodes`: `masters` masters with `replicas` replicas each, a replica takes
 * over within seconds when its master dies), once every node says it is ok and every replica is linked.
 */
export async function startRedisCluster(masters = 3, replicas = 1): Promise<TestRedisCluster> {
  const { nodes, stop } = await startRedisClusterNodes(masters, replicas);
  const probe = (node: ClusterNode) => new Redis(node.url, { maxRetriesPerRequest: 0, lazyConnect: true });
  const alive = () => nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null);

  /** With `linked`, also until every master has its replicas and every replica its link to its master. */
  const waitUntil = async (linked: boolean, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(
        alive().map(async (n) => {
          const c = probe(n);
          try {
            await c.connect();
            const info = String(await c.call('CLUSTER', 'INFO'));
            const replication = await c.info('replication');
            // A master with its replicas attached, or a replica whose link to its master is up.
            const links = /role:master/.test(replication)
              ? replicas === 0 || !/connected_slaves:0/.test(replication)
              : /master_link_status:up/.test(replication);
            return /cluster_state:ok/.test(info) && (links || !linked);
          } catch {
            return false;
          } finally {
            c.disconnect();
          }
        }),
      );
      if (states.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error('the Redis Cluster did not become ok');
      await sleep(100);
    }
  };
  await waitUntil(true);

  return {
    nodes,
    urls: nodes.map((n) => n.url).join(','),
    async masterOf(key) {
      const c = probe(alive()[0] as ClusterNode);
      try {
        await c.connect();
        const slot = Number(await c.call('CLUSTER', 'KEYSLOT', key));
        const shards = (await c.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
        const shard = shards.find(([from, to]) => slot >= from && slot <= to);
        const node = nodes.find((n) => n.port === Number(shard?.[2][1]));
        if (!node) throw new Error(`no master serves slot ${slot}`);
        return node;
      } finally {
        c.disconnect();
      }
    },
    waitUntilOk: (timeoutMs) => waitUntil(false, timeoutMs),
    async commandCalls(command) {
      const counts = await Promise.all(
        alive().map(async (n) => {
          const c = probe(n);
          try {
            await c.connect();
            const stats = await c.info('commandstats');
            return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
          } finally {
            c.disconnect();
          }
        }),
      );
      return counts.reduce((a, b) => a + b, 0);
    },
    stop,
  };
}
