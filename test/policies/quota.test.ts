import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { quotaKey } from '../../src/config/tables.js';
import { RateLimitedError } from '../../src/core/errors.js';
import { createAzureOpenAIModel } from '../../src/models/azure-openai.js';
import {
  estimateRequestTokens,
  type QuotaClock,
  type QuotaGrant,
  QuotaManager,
  withQuota,
} from '../../src/policies/quota.js';
import { chatRequest, rejectionOf } from '../models/helpers.js';
import { type AzureOpenAIServer, startAzureOpenAIServer } from '../support/azure-openai-server.js';

/** A clock that only moves when told to, firing due timers in order. */
class ManualClock implements QuotaClock {
  private time = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.time + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.time = next.at;
      next.fn();
      await flush();
    }
    this.time = end;
    await flush();
  }
}

/** Lets resolved promises run their continuations. */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

describe('QuotaManager (manual clock)', () => {
  let clock: ManualClock;
  beforeEach(() => {
    clock = new ManualClock();
  });

  it('grants at most rpm requests per window and releases them as grants age out', async () => {
    const quota = new QuotaManager({ limits: { 'gpt-4o': { rpm: 3 } }, windowMs: 60_000, clock });
    const grantedAt: number[] = [];
    const all = Array.from({ length: 8 }, () =>
      quota.acquire('gpt-4o', 10).then(() => grantedAt.push(clock.now())),
    );
    await flush();
    expect(grantedAt).toEqual([0, 0, 0]);
    expect(quota.usage('gpt-4o')).toMatchObject({ requests: 3, waiting: 5 });
    await clock.advance(59_999);
    expect(grantedAt).toHaveLength(3);
    await clock.advance(1);
    expect(grantedAt).toEqual([0, 0, 0, 60_000, 60_000, 60_000]);
    await clock.advance(60_000);
    await Promise.all(all);
    expect(grantedAt).toEqual([0, 0, 0, 60_000, 60_000, 60_000, 120_000, 120_000]);
    // No window of 60 s holds more than 3 grants.
    for (let i = 0; i + 3 < grantedAt.length; i++) {
      expect(grantedAt[i + 3]! - grantedAt[i]!).toBeGreaterThanOrEqual(60_000);
    }
  });

  it('limits tokens per window, and settling with the real usage frees the difference', async () => {
    const quota = new QuotaManager({ limits: { d: { tpm: 1000 } }, clock });
    const first = await quota.acquire('d', 600);
    let second: QuotaGrant | undefined;
    void quota.acquire('d', 600).then((g) => {
      second = g;
    });
    await flush();
    expect(second).toBeUndefined();
    first.settle(300); // the answer was shorter than estimated
    await flush();
    expect(second?.tokens).toBe(600);
    expect(quota.usage('d').tokens).toBe(900);
  });

  it('waits for enough tokens to age out, and admits one oversized request into an empty window', async () => {
    const quota = new QuotaManager({ limits: { d: { tpm: 1000 } }, windowMs: 1000, clock });
    await quota.acquire('d', 400);
    await clock.advance(500);
    await quota.acquire('d', 400);
    let big = false;
    void quota.acquire('d', 5000).then(() => {
      big = true;
    });
    await clock.advance(499);
    expect(big).toBe(false);
    await clock.advance(500); // t = 1499: the first grant has expired, the second not yet
    expect(big).toBe(false);
    await clock.advance(1); // t = 1500: window empty
    expect(big).toBe(true);
  });

  it('serves waiters first come, first served (a large request is not starved by small ones)', async () => {
    const quota = new QuotaManager({ limits: { d: { tpm: 100 } }, windowMs: 1000, clock });
    await quota.acquire('d', 60);
    const order: string[] = [];
    void quota.acquire('d', 90).then(() => order.push('large'));
    void quota.acquire('d', 10).then(() => order.push('small'));
    await flush();
    // 'small' would fit now, but 'large' came first.
    expect(order).toEqual([]);
    await clock.advance(1000);
    expect(order).toEqual(['large', 'small']);
  });

  it('pause holds every request for the retry-after period', async () => {
    const quota = new QuotaManager({ clock });
    quota.pause('d', 5000);
    let granted = false;
    void quota.acquire('d', 1).then(() => {
      granted = true;
    });
    await clock.advance(4999);
    expect(granted).toBe(false);
    await clock.advance(1);
    expect(granted).toBe(true);
    // A shorter pause never shortens a longer one.
    quota.pause('d', 3000);
    quota.pause('d', 1000);
    expect(quota.usage('d').pausedUntil).toBe(8000);
  });

  it('an aborted wait rejects with the reason and lets the next waiter move up', async () => {
    const quota = new QuotaManager({ limits: { d: { rpm: 1 } }, windowMs: 1000, clock });
    await quota.acquire('d', 1);
    const controller = new AbortController();
    const aborted = quota.acquire('d', 1, controller.signal);
    let nextGranted = false;
    void quota.acquire('d', 1).then(() => {
      nextGranted = true;
    });
    const reason = new Error('cancelled');
    controller.abort(reason);
    expect(await rejectionOf(aborted)).toBe(reason);
    expect(quota.usage('d').waiting).toBe(1);
    await clock.advance(1000);
    expect(nextGranted).toBe(true);
    // Only the surviving waiter took a slot.
    expect(quota.usage('d').requests).toBe(1);
  });

  it('without a limit, grants at once', async () => {
    const quota = new QuotaManager({ clock });
    for (let i = 0; i < 100; i++) await quota.acquire('unlimited', 1_000_000);
    expect(quota.usage('unlimited').requests).toBe(100);
  });

  it('finds limits by exact name, by variable-style name, then "*"', () => {
    const quota = new QuotaManager({
      limits: { 'gpt-4o': { rpm: 1 }, GPT_4O_MINI: { rpm: 2 }, '*': { rpm: 3 } },
    });
    expect(quota.limitFor('gpt-4o')).toEqual({ rpm: 1 });
    expect(quota.limitFor('gpt-4o-mini')).toEqual({ rpm: 2 });
    expect(quota.limitFor('o3')).toEqual({ rpm: 3 });
    expect(quotaKey('gpt-4.1-mini')).toBe('GPT_4_1_MINI');
  });

  it('estimates a request from its characters plus the completion budget', () => {
    const request = chatRequest({ model: { maxOutputTokens: 100 } });
    // 24 + 22 characters of messages → 12 tokens, plus 100.
    expect(estimateRequestTokens(request)).toBe(112);
  });
});

describe('withQuota against the local Azure OpenAI server', () => {
  let server: AzureOpenAIServer;
  beforeAll(async () => {
    server = await startAzureOpenAIServer({ apiKeys: ['k'] });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    server.setBehaviour({});
  });

  const azure = () =>
    createAzureOpenAIModel({
      endpoint: server.url,
      apiVersion: '2024-10-21',
      deployment: 'gpt-4o-mini',
      apiKey: 'k',
    });

  it('with N rpm, 8 concurrent requests never put more than N in one window on the server', async () => {
    // A window long enough that loopback jitter on a loaded machine (tens of ms) stays well inside the tolerance.
    const windowMs = 1_000;
    const jitterMs = 100;
    const rpm = 3;
    const quota = new QuotaManager({ limits: { 'gpt-4o-mini': { rpm } }, windowMs });
    // When each request leaves the client: what the quota controls, without the loopback's scheduling noise.
    const sentAt: number[] = [];
    const inner = createAzureOpenAIModel({
      endpoint: server.url,
      apiVersion: '2024-10-21',
      deployment: 'gpt-4o-mini',
      apiKey: 'k',
      fetch: (input, init) => {
        sentAt.push(performance.now());
        return fetch(input, init);
      },
    });
    // Warm up the client and open its keep-alive connections, so arrival times track grant times closely.
    await Promise.all(
      Array.from({ length: rpm }, () =>
        inner.complete(chatRequest(), { signal: new AbortController().signal }),
      ),
    );
    server.requests.length = 0;
    sentAt.length = 0;
    const model = withQuota(inner, quota, () => 'gpt-4o-mini');
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        model.complete(chatRequest(), { signal: new AbortController().signal }),
      ),
    );
    expect(results).toHaveLength(8);
    expect(server.requests).toHaveLength(8);
    const sent = [...sentAt].sort((a, b) => a - b);
    expect(sent).toHaveLength(8);
    // Any N+1 consecutive requests span at least a window (less the client's own delay between a grant and its
    // send, which a loaded machine stretches to a few milliseconds; a broken quota sends them together).
    for (let i = 0; i + rpm < sent.length; i++) {
      expect(sent[i + rpm]! - sent[i]!).toBeGreaterThanOrEqual(windowMs - jitterMs);
    }
    // 8 requests at 3 per window need two full windows of waiting.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2 * windowMs - jitterMs);
  });

  it('a 429 pauses the deployment for its retry-after: the next request waits', async () => {
    server.setBehaviour({ rateLimit: { count: 1, retryAfterMs: 250 } });
    const quota = new QuotaManager();
    const model = withQuota(azure(), quota, () => 'gpt-4o-mini');
    const first = await rejectionOf(model.complete(chatRequest(), { signal: new AbortController().signal }));
    expect(first).toBeInstanceOf(RateLimitedError);
    await model.complete(chatRequest(), { signal: new AbortController().signal });
    const [limited, next] = server.requests;
    expect(next!.receivedAt - limited!.receivedAt).toBeGreaterThanOrEqual(240);
  });

  it('settles the grant with the reported usage', async () => {
    const quota = new QuotaManager({ limits: { 'gpt-4o-mini': { tpm: 100_000 } } });
    const model = withQuota(azure(), quota, () => 'gpt-4o-mini');
    const result = await model.complete(chatRequest({ model: { maxOutputTokens: 500 } }), {
      signal: new AbortController().signal,
    });
    expect(quota.usage('gpt-4o-mini').tokens).toBe(result.usage.inputTokens + result.usage.outputTokens);
  });

  it('counts the corrective re-ask as a second request', async () => {
    server.setBehaviour({ invalidJson: { count: 1 } });
    const quota = new QuotaManager({ limits: { 'gpt-4o-mini': { rpm: 10 } } });
    const model = withQuota(azure(), quota, () => 'gpt-4o-mini');
    await model.complete(
      chatRequest({
        responseFormat: { name: 'x', schema: { type: 'object', properties: {} }, strict: false },
      }),
      { signal: new AbortController().signal },
    );
    expect(server.requests).toHaveLength(2);
    expect(quota.usage('gpt-4o-mini').requests).toBe(2);
  });

  it('an abort while waiting for the quota sends nothing', async () => {
    const quota = new QuotaManager({ limits: { 'gpt-4o-mini': { rpm: 1 } }, windowMs: 60_000 });
    const model = withQuota(azure(), quota, () => 'gpt-4o-mini');
    await model.complete(chatRequest(), { signal: new AbortController().signal });
    const controller = new AbortController();
    const waiting = model.complete(chatRequest(), { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    expect(((await rejectionOf(waiting)) as Error).name).toBe('AbortError');
    expect(server.requests).toHaveLength(1);
  });
});

describe('quota lookups by client-chosen names', () => {
  it('apply "*" to "constructor" and other inherited property names instead of no limit', async () => {
    const { loadConfig } = await import('../../src/config/index.js');
    const quotas = loadConfig({ BATON_QUOTAS: 'gpt-4o=60:90000,*=1:' }).models.quotas;
    const quota = new QuotaManager({ limits: quotas });
    for (const name of ['constructor', '__proto__', 'toString', 'valueOf']) {
      expect(quota.limitFor(name), name).toEqual({ rpm: 1 });
    }
    const literal = new QuotaManager({ limits: { '*': { rpm: 2 } } });
    expect(literal.limitFor('constructor')).toEqual({ rpm: 2 });
    expect(new QuotaManager({ limits: quotas }).limitFor('gpt-4o')).toEqual({ rpm: 60, tpm: 90000 });
  });
});

describe('a 429 pause', () => {
  it('lasts at most maxPauseMs, however long the provider asked for', async () => {
    const clock = new ManualClock();
    const quota = new QuotaManager({ clock, maxPauseMs: 30_000 });
    quota.pause('gpt-4o', 24 * 3600 * 1000);
    let granted = false;
    const pending = quota.acquire('gpt-4o', 10).then(() => {
      granted = true;
    });
    await clock.advance(29_999);
    expect(granted).toBe(false);
    await clock.advance(1);
    await pending;
    expect(granted).toBe(true);
  });
});

describe('withQuota and a provider that loads on first use', () => {
  it('takes its grant only once the provider is ready, so loading the SDK spends none of the window', async () => {
    const order: string[] = [];
    let loaded!: () => void;
    const loading = new Promise<void>((resolve) => {
      loaded = resolve;
    });
    const inner = {
      provider: 'azure-openai' as const,
      ready: async () => {
        await loading;
        order.push('ready');
      },
      complete: async () => {
        order.push('sent');
        return {
          message: { role: 'assistant' as const, content: 'ok' },
          toolCalls: [],
          usage: { inputTokens: 1, outputTokens: 1 },
          model: 'gpt-4o-mini',
          finishReason: 'stop' as const,
        };
      },
    };
    const recording = {
      async acquire(deployment: string, tokens: number): Promise<QuotaGrant> {
        order.push('granted');
        return { deployment, tokens, settle: () => undefined };
      },
      pause: () => undefined,
    };
    const call = withQuota(inner, recording, () => 'gpt-4o-mini').complete(chatRequest(), {
      signal: new AbortController().signal,
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([]);
    loaded();
    await call;
    expect(order).toEqual(['ready', 'granted', 'sent']);
  });
});
