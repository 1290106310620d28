import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AgentRuntime } from '../../src/agents/runtime.js';
import { agentDefinitionSchema } from '../../src/agents/schema.js';
import { BudgetExceededError } from '../../src/core/errors.js';
import { createAzureOpenAIModel } from '../../src/models/azure-openai.js';
import { CircuitBreakers } from '../../src/policies/breakers.js';
import { RunBudget } from '../../src/policies/budget.js';
import { type AzureOpenAIServer, startAzureOpenAIServer } from '../support/azure-openai-server.js';
import { createTestEngine, sampleArticle } from '../support/engine.js';

/**
 * A run's budget holds across concurrent calls and counts every model request: concurrent branches reserve what
 * they may spend instead of each reading the same remaining tokens, and a provider's corrective re-ask is a model
 * call like any other.
 */
describe('token budget with concurrent branches', () => {
  it('is never exceeded by more than one call’s prompt', async () => {
    for (const maxTokens of [600, 900, 1_500]) {
      const engine = createTestEngine();
      const out = await engine.run({
        team: 'news-desk',
        pattern: 'concurrent',
        input: sampleArticle,
        options: { maxTokens, stream: false },
      });
      const tokens = out.usage.inputTokens + out.usage.outputTokens;
      const largestPrompt = Math.max(0, ...out.steps.map((s) => s.usage.inputTokens));
      expect(tokens, `maxTokens ${maxTokens}: ${out.status}`).toBeLessThanOrEqual(maxTokens + largestPrompt);
      // What the run reports is what the model was asked for.
      expect(out.usage.modelCalls).toBe(engine.model.requests.length);
    }
  });

  it('reserves for calls in flight: a second call waits for the first to settle instead of sharing its tokens', async () => {
    const budget = new RunBudget(600, undefined);
    const signal = new AbortController().signal;
    const first = await budget.reserve({ promptTokens: 100, wantedOutputTokens: undefined }, signal);
    expect(first.maxOutputTokens).toBe(500);
    let secondGranted = false;
    const second = budget.reserve({ promptTokens: 100, wantedOutputTokens: undefined }, signal).then((r) => {
      secondGranted = true;
      return r;
    });
    await new Promise((r) => setImmediate(r));
    expect(secondGranted).toBe(false);
    first.settle({ usage: { inputTokens: 100, outputTokens: 50 }, requests: 1 });
    expect((await second).maxOutputTokens).toBe(350);
    // Calls in flight that can never make room: refused at once.
    (await second).settle({ usage: { inputTokens: 100, outputTokens: 350 }, requests: 1 });
    await expect(
      budget.reserve({ promptTokens: 100, wantedOutputTokens: 10 }, signal),
    ).rejects.toBeInstanceOf(BudgetExceededError);
    expect(budget.usage()).toEqual({ inputTokens: 200, outputTokens: 400, modelCalls: 2 });
  });

  it('gives reservations their own caps when the budget is large enough for all of them at once', async () => {
    const budget = new RunBudget(20_000, undefined);
    const signal = new AbortController().signal;
    const a = await budget.reserve({ promptTokens: 200, wantedOutputTokens: undefined }, signal);
    const b = await budget.reserve({ promptTokens: 200, wantedOutputTokens: 300 }, signal);
    expect(a.maxOutputTokens).toBe(4_096);
    expect(b.maxOutputTokens).toBe(300);
  });
});

describe('the corrective re-ask of a structured answer', () => {
  let server: AzureOpenAIServer;
  beforeAll(async () => {
    server = await startAzureOpenAIServer({ deployments: ['gpt-4o-mini'], apiKeys: ['k'] });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    server.setBehaviour({ invalidJson: { count: 1 } });
  });

  const runtime = new AgentRuntime({
    models: {
      modelFor: () =>
        createAzureOpenAIModel({
          endpoint: server.url,
          apiVersion: '2024-10-21',
          deployment: 'gpt-4o-mini',
          apiKey: 'k',
        }),
    },
    breakers: new CircuitBreakers(),
    random: () => 0,
  });
  const agent = agentDefinitionSchema.parse({
    name: 'judge',
    description: 'judges',
    instructions: 'judge',
    outputSchema: z
      .object({ title: z.string(), score: z.number().int().min(1), tags: z.array(z.string()) })
      .strict(),
    policy: { retry: { maxAttempts: 1 } },
  });
  const invoke = (budget: RunBudget) =>
    runtime.invoke({
      agent,
      call: { key: 'k', agent: 'judge', messages: [{ role: 'user', content: 'judge this' }] },
      seed: 1,
      signal: new AbortController().signal,
      budget,
    });

  it('counts as a model call in the usage and the journal', async () => {
    const budget = new RunBudget(undefined, undefined);
    const settled = await invoke(budget);
    expect(settled.ok).toBe(true);
    expect(server.requests).toHaveLength(2);
    expect(budget.usage().modelCalls).toBe(2);
    expect(settled.ok && settled.requests).toBe(2);
    expect(settled.ok && settled.result.attempts).toBe(1);
  });

  it('is not sent when the model-call budget has no room for it', async () => {
    const budget = new RunBudget(undefined, 1);
    const settled = await invoke(budget);
    expect(server.requests).toHaveLength(1);
    expect(settled.ok).toBe(false);
    expect(!settled.ok && (settled.error as { code?: string }).code).toBe('MODEL_OUTPUT_INVALID');
    expect(budget.usage().modelCalls).toBe(1);
  });

  it('counts both requests when the re-ask itself fails', async () => {
    // The first answer is broken; the connection drops when the re-ask is sent.
    let n = 0;
    const failing = new AgentRuntime({
      models: {
        modelFor: () => {
          const inner = createAzureOpenAIModel({
            endpoint: server.url,
            apiVersion: '2024-10-21',
            deployment: 'gpt-4o-mini',
            apiKey: 'k',
            fetch: async (input, init) => {
              n++;
              if (n === 2) throw new TypeError('fetch failed');
              return fetch(input, init);
            },
          });
          return inner;
        },
      },
      breakers: new CircuitBreakers(),
      random: () => 0,
    });
    const budget = new RunBudget(undefined, undefined);
    const settled = await failing.invoke({
      agent,
      call: { key: 'k', agent: 'judge', messages: [{ role: 'user', content: 'judge this' }] },
      seed: 1,
      signal: new AbortController().signal,
      budget,
    });
    expect(settled.ok).toBe(false);
    expect(n).toBe(2);
    expect(budget.usage().modelCalls).toBe(2);
    expect(budget.usage().inputTokens).toBeGreaterThan(0);
  });
});
