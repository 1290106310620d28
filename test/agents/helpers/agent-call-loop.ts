/**
 * Makes `count` agent calls through the agent runtime (timeout, retry, breaker, budget) with a model that answers
 * from memory. Run under `--trace-gc-nvp`: what the calls leave for the old generation shows in the collector's
 * `promoted=` figures. The model does not read its request's signal: on Node 20 every AbortSignal is promoted with
 * what it references (docs/benchmarks.md), so a provider that sends a request pays for one; the runtime's own
 * objects are what this measures.
 */
import { AgentRuntime } from '../../../src/agents/runtime.js';
import { agentDefinitionSchema } from '../../../src/agents/schema.js';
import type { ChatModel } from '../../../src/core/model.js';
import { CircuitBreakers } from '../../../src/policies/breakers.js';
import { RunBudget } from '../../../src/policies/budget.js';

const count = Number(process.argv[2] ?? 20_000);
const model: ChatModel = {
  provider: 'simulated',
  async complete() {
    return {
      message: { role: 'assistant', content: 'ok' },
      toolCalls: [],
      usage: { inputTokens: 1, outputTokens: 1 },
      model: 'memory',
      finishReason: 'stop',
    };
  },
};
const runtime = new AgentRuntime({ models: { modelFor: () => model }, breakers: new CircuitBreakers() });
const agent = agentDefinitionSchema.parse({ name: 'a', description: 'answers', instructions: 'answer' });

// Four calls per run, as in a 4-step run: each run has its own budget and signal.
for (let run = 0; run < count / 4; run++) {
  const signal = new AbortController().signal;
  const budget = new RunBudget(undefined, undefined);
  for (let step = 0; step < 4; step++) {
    const settled = await runtime.invoke({
      agent,
      call: { key: `seq/${step}`, agent: 'a', messages: [{ role: 'user', content: 'hi' }] },
      seed: 1,
      signal,
      budget,
    });
    if (!settled.ok) throw settled.error;
  }
}
process.stdout.write(`calls ${count}\n`);
