/**
 * The API and a worker in a process of their own, for the HTTP fuzz test: started with `fork()` (IPC) and
 * `--expose-gc`, it announces `{ url }`, answers `{ type: 'memory' }` with its heap after a full garbage collection
 * and stops on `{ type: 'stop' }`. Memory is measured here, not in the test process, so the fuzzer's own
 * allocations do not count. Configuration comes from the environment (REDIS_URL, BATON_REDIS_PREFIX, keys…).
 */
import { pino } from 'pino';
import { buildApi } from '../../src/api/app.js';
import { loadConfig } from '../../src/config/index.js';
import { apiDeps, createServices, workerDeps } from '../../src/services.js';
import { startRunWorker } from '../../src/worker/run-worker.js';

export interface MemorySample {
  heapUsed: number;
  rss: number;
  external: number;
}

type Message = { type: 'memory' } | { type: 'stop' };

const gc = (globalThis as { gc?: () => void }).gc;

async function collect(): Promise<MemorySample> {
  // Several rounds with a turn of the event loop between them, so finalizers and weak references settle.
  for (let i = 0; i < 4; i++) {
    gc?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const { heapUsed, rss, external } = process.memoryUsage();
  return { heapUsed, rss, external };
}

async function main() {
  const config = loadConfig(process.env);
  const log = pino({ level: 'silent' });
  const services = createServices(config, config.redisUrl as string, log);
  const worker = await startRunWorker(workerDeps(config, services, log));
  const deps = apiDeps(config, services, log);
  const app = await buildApi(deps);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const send = (message: unknown) => process.send?.(message);
  process.on('message', (message: Message) => {
    if (message.type === 'memory') {
      void collect().then((memory) => send({ type: 'memory', memory, gc: gc !== undefined }));
    } else if (message.type === 'stop') {
      void (async () => {
        await app.close();
        await worker.close();
        await deps.queue.close();
        await services.close();
        send({ type: 'stopped' });
        process.exit(0);
      })();
    }
  });
  send({ type: 'ready', url });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
