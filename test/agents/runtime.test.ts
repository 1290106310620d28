import { describe, expect, it } from 'vitest';
import { AgentRuntime } from '../../src/agents/runtime.js';
import { type AgentDefinitionInput, agentDefinitionSchema } from '../../src/agents/schema.js';
import {
  AgentTimeoutError,
  BudgetExceededError,
  CircuitOpenError,
  PermanentModelError,
  RateLimitedError,
  TransientModelError,
} from '../../src/core/errors.js';
import type { ChatCallOptions, ChatModel, ChatRequest, ModelSettings } from '../../src/core/model.js';
import { createSimulatedModel, type SimulatedFault } from '../../src/models/simulated.js';
import { CircuitBreakers } from '../../src/policies/breakers.js';
import { RunBudget } from '../../src/policies/budget.js';

/** The real runtime over the simulated model, with a per-call fault script and a log of every model call. */
function setup(
  faults: (call: number) => SimulatedFault | undefined,
  agentOverrides: Partial<AgentDefinitionInput> = {},
  runtimeOptions: Partial<ConstructorParameters<typeof AgentRuntime>[0]> = {},
) {
  const simulated = createSimulatedModel(
    { latencyMs: [0, 0], failureRate: 0, hangRate: 0 },
    { faults: (_r, call) => faults(call) },
  );
  const calls: { request: ChatRequest; signal: AbortSignal; at: number }[] = [];
  const model: ChatModel = {
    provider: 'simulated',
    complete(request, options: ChatCallOptions) {
      calls.push({ request, signal: options.signal, at: performance.now() });
      return simulated.complete(request, options);
    },
  };
  const breakers = new CircuitBreakers();
  const runtime = new AgentRuntime({
    models: { modelFor: () => model },
    breakers,
    random: () => 0,
    ...runtimeOptions,
  });
  const agent = agentDefinitionSchema.parse({
    name: 'worker-agent',
    description: 'test agent',
    instructions: 'answer',
    policy: {
      timeoutMs: 100,
      retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 50 },
      breaker: { failureThreshold: 2, halfOpenAfterMs: 200 },
    },
    ...agentOverrides,
  });
  // The runtime settles with the result or the failure; these tests read a failure as the error it carries.
  const invoke = async (
    budget = new RunBudget(undefined, undefined),
    signal = new AbortController().signal,
    extra: { deadlineAt?: number; modelOverride?: ModelSettings } = {},
  ) => {
    const settled = await runtime.invoke({
      agent,
      call: { key: 'k', agent: agent.name, messages: [{ role: 'user', content: 'hello' }] },
      seed: 1,
      signal,
      budget,
      ...extra,
    });
    if (!settled.ok) throw settled.error;
    return settled.result;
  };
  return { calls, breakers, invoke, agent };
}

describe('agent runtime: timeout', () => {
  it('aborts a call that does not answer within policy.timeoutMs and reports AGENT_TIMEOUT', async () => {
    const { calls, invoke } = setup(() => 'hang', { policy: { timeoutMs: 80, retry: { maxAttempts: 1 } } });
    const started = performance.now();
    await expect(invoke()).rejects.toBeInstanceOf(AgentTimeoutError);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(75);
    expect(elapsed).toBeLessThan(2_000);
    expect(calls).toHaveLength(1);
    // The model's request was really cancelled, not left running.
    expect(calls[0]?.signal.aborted).toBe(true);
  });

  it('retries a timed-out attempt (timeouts are retryable)', async () => {
    const { calls, invoke } = setup((call) => (call === 1 ? 'hang' : undefined));
    const result = await invoke();
    expect(result.attempts).toBe(2);
    expect(calls).toHaveLength(2);
  });
});

describe('agent runtime: retry', () => {
  it('retries transient failures with backoff until an attempt succeeds', async () => {
    const { calls, invoke } = setup((call) => (call <= 2 ? 'transient' : undefined));
    const result = await invoke();
    expect(result.attempts).toBe(3);
    expect(calls).toHaveLength(3);
    // Exponential backoff with random() = 0: half of 10 ms, then half of 20 ms.
    const gap1 = (calls[1]?.at ?? 0) - (calls[0]?.at ?? 0);
    const gap2 = (calls[2]?.at ?? 0) - (calls[1]?.at ?? 0);
    expect(gap1).toBeGreaterThanOrEqual(4);
    expect(gap2).toBeGreaterThanOrEqual(9);
  });

  it('gives up after maxAttempts and reports the last error', async () => {
    const { calls, invoke } = setup(() => 'transient');
    await expect(invoke()).rejects.toBeInstanceOf(TransientModelError);
    expect(calls).toHaveLength(3);
  });

  it('does not retry permanent errors', async () => {
    const { calls, invoke } = setup(() => 'permanent');
    await expect(invoke()).rejects.toBeInstanceOf(PermanentModelError);
    expect(calls).toHaveLength(1);
  });

  it('waits at least the retry-after a rate-limited provider asked for', async () => {
    const { calls, invoke } = setup((call) => (call === 1 ? { rateLimitedMs: 250 } : undefined));
    const result = await invoke();
    expect(result.attempts).toBe(2);
    expect((calls[1]?.at ?? 0) - (calls[0]?.at ?? 0)).toBeGreaterThanOrEqual(245);
  });
});

describe('agent runtime: bounded retry-after waits', () => {
  it('fails the attempt with the rate-limit error when retry-after is longer than the configured maximum', async () => {
    const { calls, invoke } = setup(() => ({ rateLimitedMs: 60_000 }), {}, { retryAfterMaxMs: 1_000 });
    const error = await invoke().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBe(60_000);
    expect(calls).toHaveLength(1);
  }, 10_000);

  it("fails the attempt when retry-after would outlast the run's deadline", async () => {
    const { calls, invoke } = setup((call) => (call === 1 ? { rateLimitedMs: 5_000 } : undefined));
    const error = await invoke(undefined, undefined, { deadlineAt: Date.now() + 1_000 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(calls).toHaveLength(1);
  });

  it('still waits a retry-after that fits both', async () => {
    const { calls, invoke } = setup(
      (call) => (call === 1 ? { rateLimitedMs: 100 } : undefined),
      {},
      {
        retryAfterMaxMs: 1_000,
      },
    );
    const result = await invoke(undefined, undefined, { deadlineAt: Date.now() + 10_000 });
    expect(result.attempts).toBe(2);
    expect(calls).toHaveLength(2);
  });

  it('reads BATON_RETRY_AFTER_MAX_MS (default 30 s)', async () => {
    const { loadConfig } = await import('../../src/config/index.js');
    expect(loadConfig({}).models.retryAfterMaxMs).toBe(30_000);
    expect(loadConfig({ BATON_RETRY_AFTER_MAX_MS: '5000' }).models.retryAfterMaxMs).toBe(5_000);
  });
});

describe('agent runtime: models a run may choose', () => {
  it('refuses an override the operator does not allow without calling any model', async () => {
    const { createModelAllowList } = await import('../../src/policies/model-allowlist.js');
    const { loadConfig } = await import('../../src/config/index.js');
    const allowedModels = createModelAllowList(loadConfig({}));
    const { calls, invoke, breakers } = setup(() => undefined, {}, { allowedModels });
    const error = await invoke(undefined, undefined, { modelOverride: { provider: 'azure-openai' } }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'MODEL_NOT_ALLOWED' });
    expect(calls).toHaveLength(0);
    expect(breakers.snapshot().filter((b) => b.state !== 'closed' || b.lastFailure)).toEqual([]);
    // Settings that keep the agent's model are fine.
    expect((await invoke(undefined, undefined, { modelOverride: { temperature: 0 } })).attempts).toBe(1);
  });
});

describe('agent runtime: circuit breaker', () => {
  it('opens after consecutive failed calls, fails fast without reaching the model, and closes after a good probe', async () => {
    let failing = true;
    const { calls, invoke, breakers, agent } = setup(() => (failing ? 'permanent' : undefined));
    await expect(invoke()).rejects.toBeInstanceOf(PermanentModelError);
    await expect(invoke()).rejects.toBeInstanceOf(PermanentModelError);
    expect(breakers.state(agent.name)).toBe('open');
    const before = calls.length;
    await expect(invoke()).rejects.toBeInstanceOf(CircuitOpenError);
    expect(calls.length).toBe(before); // refused without a model call
    expect(breakers.snapshot()[0]?.lastFailure?.code).toBe('MODEL_PERMANENT');

    failing = false;
    await new Promise((r) => setTimeout(r, 220)); // past halfOpenAfterMs
    const probe = await invoke();
    expect(probe.attempts).toBe(1);
    expect(breakers.state(agent.name)).toBe('closed');
  });
});

describe('agent runtime: budget', () => {
  it('refuses a call that would exceed the model-call budget, counting retries', async () => {
    const { calls, invoke } = setup((call) => (call === 1 ? 'transient' : undefined));
    const budget = new RunBudget(undefined, 1);
    await expect(invoke(budget)).rejects.toBeInstanceOf(BudgetExceededError);
    expect(calls).toHaveLength(1); // the retry was not sent
    expect(budget.usage().modelCalls).toBe(1);
  });

  it('refuses a call when the token budget is spent and caps output tokens to what remains', async () => {
    const { calls, invoke } = setup(() => undefined);
    const budget = new RunBudget(12, undefined); // 'hello' is 2 prompt tokens; the answer is 8
    await invoke(budget);
    expect(calls[0]?.request.model.maxOutputTokens).toBe(10); // 12 - 0 used - 2 prompt
    await expect(invoke(budget)).rejects.toBeInstanceOf(BudgetExceededError);
  });
});

describe('agent runtime: cancellation', () => {
  it('aborts the in-flight model call when the run is cancelled', async () => {
    const { calls, invoke } = setup(() => 'hang', { policy: { timeoutMs: 10_000 } });
    const controller = new AbortController();
    const pending = invoke(undefined, controller.signal);
    await new Promise((r) => setTimeout(r, 30));
    controller.abort(new Error('cancelled by test'));
    await expect(pending).rejects.toThrow('cancelled by test');
    expect(calls[0]?.signal.aborted).toBe(true);
  });
});
