import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';

import { freePort, startRedis, waitForRedis } from './redis.js';

/**
 * The suite's private Redis servers. CI once failed with "redis-server did not answer": the port from
 * `listen(0)` lies in the kernel's ephemeral range, and an outgoing connection of a parallel test file could take
 * it (or a cluster-mode server's bus port, the port + 10,000, also in that range) before the server bound it, so
 * the server exited and the wait ran out.
 */
describe('the test Redis', () => {
  it('takes ports below the ephemeral range, where no outgoing connection gets its source port', async () => {
    const firstEphemeral = firstEphemeralPort();
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThan(firstEphemeral);
    }
  });

  // With REDIS_URL set no server is started here.
  it.skipIf(Boolean(process.env.REDIS_URL))(
    "gives a cluster-mode server's bus a port below the ephemeral range too (not the port + 10,000)",
    async () => {
      const redis = await startRedis();
      const client = new Redis(redis.url);
      try {
        const [, busPort] = (await client.call('CONFIG', 'GET', 'cluster-port')) as [string, string];
        expect(Number(busPort)).toBeGreaterThanOrEqual(10_000);
        expect(Number(busPort)).toBeLessThan(firstEphemeralPort());
      } finally {
        client.disconnect();
        await redis.stop();
      }
    },
  );

  it('reports a server that exited before it answered at once, not after the wait runs out', async () => {
    // The port's holder hangs up on every connection, as nothing on a port a client socket holds answers.
    const taken: Server = createServer((socket) => socket.destroy());
    const port = await new Promise<number>((resolve) =>
      taken.listen(0, '127.0.0.1', () => resolve((taken.address() as { port: number }).port)),
    );
    try {
      const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', ''], {
        stdio: 'ignore',
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await expect(waitForRedis(`redis://127.0.0.1:${port}`, child)).rejects.toThrow(
        /exited .* before it answered/,
      );
      await exited;
    } finally {
      taken.close();
    }
  });
});

const firstEphemeralPort = () =>
  Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0]);
