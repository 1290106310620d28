/**
 * `npm run bench:guardrails`: what PII redaction adds to an agent step. The 10-agent chain of `npm run bench`
 * (in-process, a model that answers at once) runs the same support ticket with the team's guardrails off and with
 * `pii: redact`, alternating the two three times in one process. The ticket holds an e-mail address, a phone
 * number and a card number, and each step's prompt carries the ticket and the earlier steps' work, so every step
 * redacts. Prints a Markdown table for docs/benchmarks.md.
 */
import { pino } from 'pino';
import { AgentRuntime } from '../src/agents/runtime.js';
import type { ChatModel } from '../src/core/model.js';
import { execute } from '../src/engine/index.js';
import { orchestrators } from '../src/orchestrators/index.js';
import { CircuitBreakers } from '../src/policies/breakers.js';
import { MemoryEventLog } from '../src/runs/events.js';
import { memoryJournal } from '../src/runs/journal.js';
import { staticTeams } from '../src/teams/resolver.js';
import { type TeamDefinition, teamDefinitionSchema } from '../src/teams/schema.js';
import { engineTelemetry, runtimeTelemetry } from '../src/telemetry/hooks.js';

const TICKET = `I was charged twice for my subscription this month and need one of the charges refunded.
The card on file is 4111 1111 1111 1111. You can reach me at jane.doe@contoso-mail.example or on +44 20 7946 0958
between 9 and 5. My account has been with you since 2019 and this is the first time something like this happened;
the second charge appeared on the 14th, two days after the first. Please confirm by e-mail once it is done.`;

const instantModel: ChatModel = {
  provider: 'simulated',
  async complete(request) {
    return {
      message: { role: 'assistant', content: `ok ${request.agent}: noted the refund request.` },
      toolCalls: [],
      usage: { inputTokens: 10, outputTokens: 2 },
      model: 'instant',
      finishReason: 'stop',
    };
  },
};

function chainTeam(name: string, guardrails: unknown): TeamDefinition {
  const agents = Array.from({ length: 10 }, (_, i) => ({
    name: `step-${i}`,
    description: `step ${i}`,
    instructions: 'Answer briefly.',
  }));
  return teamDefinitionSchema.parse({
    name,
    description: '10-agent chain',
    agents,
    patterns: { sequential: { order: agents.map((a) => a.name) } },
    ...(guardrails ? { guardrails } : {}),
  });
}

async function usPerStep(team: string, runs: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < runs; i++) {
    await execute(
      {
        runId: `bench-${team}-${i}`,
        request: { team, pattern: 'sequential', input: TICKET, options: { stream: false } },
        attempt: 1,
        journal: memoryJournal(),
        events: new MemoryEventLog(),
      },
      deps,
    );
  }
  return ((performance.now() - started) * 1000) / (runs * 10);
}

const teams = new Map([
  ['plain', chainTeam('plain', undefined)],
  ['redacting', chainTeam('redacting', { pii: { mode: 'redact', phoneRegions: ['US', 'GB'] } })],
]);
const deps = {
  runtime: new AgentRuntime({
    models: { modelFor: () => instantModel },
    breakers: new CircuitBreakers(),
    hooks: runtimeTelemetry({ captureContent: false }),
  }),
  teams: staticTeams(teams),
  orchestrators,
  log: pino({ level: 'silent' }),
  hooks: engineTelemetry(),
};

await usPerStep('plain', 100);
await usPerStep('redacting', 100);
const rows: { plain: number; redacting: number }[] = [];
for (let round = 0; round < 3; round++) {
  rows.push({ plain: await usPerStep('plain', 500), redacting: await usPerStep('redacting', 500) });
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const fmt = (x: number) => x.toFixed(1);
console.log('| team guardrails | µs per step (three alternating runs) | mean |');
console.log('| --- | --- | --- |');
console.log(
  `| none | ${rows.map((r) => fmt(r.plain)).join(', ')} | ${fmt(mean(rows.map((r) => r.plain)))} |`,
);
console.log(
  `| \`pii: redact\` | ${rows.map((r) => fmt(r.redacting)).join(', ')} | ${fmt(mean(rows.map((r) => r.redacting)))} |`,
);
