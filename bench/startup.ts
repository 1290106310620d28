import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv, percentile } from './support.js';

/**
 * What the telemetry preload costs a process's start-up (`npm run bench:startup`): spawn to exit of a small
 * process that logs, makes two spans and a metric (`startup-child.ts`), as plain `node`, with the preload and
 * telemetry off, and with the preload exporting OTLP http/json to a local collector that answers at once;
 * interleaved, medians of the rounds. With telemetry off the SDK is never loaded; on, it is loaded once per
 * process and everything is exported at exit.
 */
const ROUNDS = Number(process.env.ROUNDS ?? 9);
const here = dirname(fileURLToPath(import.meta.url));
const child = join(here, 'startup-child.js');
const preload = join(here, '../src/telemetry/preload.js');

/** Milliseconds from spawn to exit of `node [--import preload] startup-child.js worker`. */
async function timeProcess(withPreload: boolean, env: Record<string, string>): Promise<number> {
  const started = performance.now();
  const proc = spawn(process.execPath, [...(withPreload ? ['--import', preload] : []), child, 'worker'], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const [code] = (await once(proc, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`the start-up process exited with ${code}`);
  return performance.now() - started;
}

const collector = createServer((req, res) => {
  req.resume();
  req.once('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
});
collector.listen(0, '127.0.0.1');
await once(collector, 'listening');
const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;

const cases = {
  'plain `node`': { preload: false, env: cleanEnv() },
  'with the preload, telemetry off': { preload: true, env: cleanEnv() },
  'with the preload, OTLP http/json on (SDK load, export at exit)': {
    preload: true,
    env: cleanEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }),
  },
};
const samples = new Map<string, number[]>(Object.keys(cases).map((name) => [name, []]));
for (let round = 1; round <= ROUNDS; round++) {
  for (const [name, c] of Object.entries(cases)) samples.get(name)?.push(await timeProcess(c.preload, c.env));
  process.stderr.write(`round ${round}/${ROUNDS}\r`);
}
collector.close();

console.log(`\nStart-up to exit, median of ${ROUNDS} (Node ${process.versions.node}):\n`);
console.log('| process | ms |\n| --- | --- |');
for (const [name, xs] of samples) console.log(`| ${name} | ${percentile(xs, 50).toFixed(0)} |`);
