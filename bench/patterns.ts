/**
 * `npm run bench:patterns`: wall time, model calls and tokens of one news-desk article under each pattern with a
 * fixed 200 ms simulated model latency, in-process (the engine a worker runs). Shows the orchestration's
 * latency shape: concurrent ≈ the slowest branch, sequential ≈ the sum.
 */
import { pino } from 'pino';
import { AgentRuntime } from '../src/agents/runtime.js';
import { execute } from '../src/engine/index.js';
import { orchestrators, patternNames as patterns } from '../src/orchestrators/index.js';
import { CircuitBreakers } from '../src/policies/breakers.js';
import { MemoryEventLog } from '../src/runs/events.js';
import { memoryJournal } from '../src/runs/journal.js';
import type { Pattern, RunOptions } from '../src/runs/schema.js';
import { simulatedModel } from '../src/simulation/index.js';
import { shippedTeams } from '../src/teams/files.js';
import { staticTeams } from '../src/teams/resolver.js';

const catalog = shippedTeams();

const LATENCY_MS = 200;
const REPEATS = 5;
const article = `Contoso Motors raises guidance after record quarter

Contoso Motors reported record quarterly profit on Tuesday and raised its full-year guidance, sending shares higher. Supplier Fabrikam Industries warned of a revenue shortfall after a recall of faulty battery packs, and its shares fell.`;

const model = simulatedModel({ latencyMs: [LATENCY_MS, LATENCY_MS], failureRate: 0, hangRate: 0 });
const deps = {
  runtime: new AgentRuntime({ models: { modelFor: () => model }, breakers: new CircuitBreakers() }),
  teams: staticTeams(catalog),
  orchestrators,
  log: pino({ level: 'silent' }),
};

/** Every pattern with its defaults, plus group chat with a manager choosing the speakers. */
const cases: { label: string; pattern: Pattern; options?: RunOptions }[] = [
  ...patterns.map((pattern) => ({ label: pattern, pattern })),
  { label: 'group-chat (manager)', pattern: 'group-chat', options: { chatMode: 'manager' } },
];

const rows: { pattern: string; ms: number; calls: number; tokens: number }[] = [];
for (const { label, pattern, options } of cases) {
  const times: number[] = [];
  let calls = 0;
  let tokens = 0;
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    const out = await execute(
      {
        runId: `bench-${label}-${i}`,
        request: { team: 'news-desk', pattern, input: article, options: { stream: false, ...options } },
        attempt: 1,
        journal: memoryJournal(),
        events: new MemoryEventLog(),
      },
      deps,
    );
    times.push(performance.now() - t0);
    if (out.status !== 'succeeded') throw new Error(`${label} ${out.status}: ${out.error?.message}`);
    calls = out.usage.modelCalls;
    tokens = out.usage.inputTokens + out.usage.outputTokens;
  }
  times.sort((a, b) => a - b);
  rows.push({ pattern: label, ms: times[Math.floor(times.length / 2)] ?? 0, calls, tokens });
}
const sequentialMs = rows.find((r) => r.pattern === 'sequential')?.ms ?? Number.NaN;
console.log(`news-desk, simulated latency ${LATENCY_MS} ms per call, median of ${REPEATS} runs\n`);
console.log('| pattern | wall time | vs sequential | model calls | tokens |\n|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.pattern} | ${r.ms.toFixed(0)} ms | ${(r.ms / sequentialMs).toFixed(2)}× | ${r.calls} | ${r.tokens} |`,
  );
}
