import type { AccessToken, TokenCredential } from '@azure/identity';
import type { ChatRequest } from '../../src/core/model.js';

/** A credential that always hands out the same token, counting how often it was asked and for which scopes. */
export function fixedCredential(token: string): TokenCredential & { scopes: string[][] } {
  const scopes: string[][] = [];
  return {
    scopes,
    async getToken(scope: string | string[]): Promise<AccessToken> {
      scopes.push(Array.isArray(scope) ? scope : [scope]);
      return { token, expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
}

export function chatRequest(overrides: Partial<ChatRequest> = {}): ChatRequest {
  return {
    agent: 'writer',
    model: {},
    messages: [
      { role: 'system', content: 'You write short answers.' },
      { role: 'user', content: 'Say hello to the team.' },
    ],
    seed: 1,
    ...overrides,
  };
}

/** Waits until `predicate` holds (polling), failing after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Settles `promise` and returns what it rejected with (fails when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}

export const answerSchema = {
  type: 'object',
  properties: {
    title: { type: 'string' },
    score: { type: 'integer', minimum: 1 },
    tags: { type: 'array', items: { type: 'string' } },
  },
  required: ['title', 'score', 'tags'],
  additionalProperties: false,
};
