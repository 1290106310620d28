import { describe, expect, it } from 'vitest';
import {
  AgentTimeoutError,
  ContentFilteredError,
  ModelConfigurationError,
  PermanentModelError,
  RateLimitedError,
  TransientModelError,
} from '../../src/core/errors.js';
import { breakerTarget, CircuitBreakers, countsAgainstBreaker } from '../../src/policies/breakers.js';

describe('what counts against a circuit breaker', () => {
  it('counts failures of the endpoint, not of the request or the configuration', () => {
    expect(countsAgainstBreaker(new TransientModelError('503'))).toBe(true);
    expect(countsAgainstBreaker(new RateLimitedError('429', 100))).toBe(true);
    expect(countsAgainstBreaker(new AgentTimeoutError('a', 100))).toBe(true);
    expect(countsAgainstBreaker(new PermanentModelError('404', { status: 404 }))).toBe(true);
    expect(countsAgainstBreaker(new PermanentModelError('401', { status: 401 }))).toBe(true);
    // What a client's own request caused.
    expect(countsAgainstBreaker(new PermanentModelError('too long', { status: 400 }))).toBe(false);
    expect(countsAgainstBreaker(new PermanentModelError('too large', { status: 413 }))).toBe(false);
    expect(countsAgainstBreaker(new ContentFilteredError('refused'))).toBe(false);
    // Configuration errors: nothing was called.
    expect(countsAgainstBreaker(new ModelConfigurationError('MODEL_NOT_CONFIGURED', 'no endpoint'))).toBe(
      false,
    );
    expect(countsAgainstBreaker(new ModelConfigurationError('MODEL_NOT_ALLOWED', 'not allowed'))).toBe(false);
    expect(countsAgainstBreaker(new Error('bug'))).toBe(false);
  });
});

describe('breakers per agent and model', () => {
  it('keep the breakers of one agent on two deployments apart', async () => {
    const breakers = new CircuitBreakers();
    const policy = { failureThreshold: 1, halfOpenAfterMs: 60_000 };
    const wrong = breakerTarget('summarizer', { deployment: 'wrong' }, 'azure-openai');
    const configured = breakerTarget('summarizer', {}, 'azure-openai');
    await breakers
      .circuitBreakerFor(wrong, policy)
      .execute(() => Promise.reject(new PermanentModelError('404', { status: 404 })))
      .catch(() => {});
    expect(breakers.state(wrong)).toBe('open');
    expect(breakers.state(configured)).toBe('closed');
    expect(await breakers.circuitBreakerFor(configured, policy).execute(async () => 'ok')).toBe('ok');
    // By agent name alone: the worst of its breakers.
    expect(breakers.state('summarizer')).toBe('open');
    expect(breakers.snapshot().map((b) => [b.model, b.state])).toEqual([
      ['wrong', 'open'],
      ['', 'closed'],
    ]);
  });

  it('give every call of one target the same breaker, and each agent, provider and model one of its own', () => {
    const breakers = new CircuitBreakers();
    const policy = { failureThreshold: 1, halfOpenAfterMs: 60_000 };
    const of = (agent: string, provider: string, model: string) =>
      breakers.circuitBreakerFor({ agent, provider, model }, policy);
    const first = of('writer', 'azure-openai', 'gpt-4o');
    expect(of('writer', 'azure-openai', 'gpt-4o')).toBe(first);
    const others = [
      of('editor', 'azure-openai', 'gpt-4o'),
      of('writer', 'foundry', 'gpt-4o'),
      of('writer', 'azure-openai', 'gpt-4o-mini'),
      // Parts that would run together if the key were only joined.
      of('writer', 'azure-openaigpt-4o', ''),
      of('writerazure-openai', '', 'gpt-4o'),
    ];
    expect(new Set([first, ...others]).size).toBe(6);
    expect(breakers.snapshot()).toHaveLength(6);
  });
});
