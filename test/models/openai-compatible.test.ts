import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PermanentModelError, RateLimitedError, TransientModelError } from '../../src/core/errors.js';
import { createOpenAICompatibleModel, isAzureHost } from '../../src/models/openai-compatible.js';
import { type AzureOpenAIServer, startAzureOpenAIServer } from '../support/azure-openai-server.js';
import { answerSchema, chatRequest, fixedCredential, rejectionOf, until } from './helpers.js';

describe('openai-compatible provider against the v1 surface of the local server', () => {
  let server: AzureOpenAIServer;

  beforeAll(async () => {
    server = await startAzureOpenAIServer({ deployments: ['llama3.1:8b', 'qwen2.5'], apiKeys: ['sk-local'] });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    server.setBehaviour({});
  });

  const signal = () => new AbortController().signal;
  const model = () =>
    createOpenAICompatibleModel({
      baseURL: `${server.url}/openai/v1`,
      apiKey: 'sk-local',
      model: 'llama3.1:8b',
    });

  it('posts to {baseURL}/chat/completions with a bearer key and BATON_MODEL as the model', async () => {
    const result = await model().complete(chatRequest({ model: { maxOutputTokens: 100 } }), {
      signal: signal(),
    });
    const req = server.requests[0]!;
    expect(req.path).toBe('/openai/v1/chat/completions');
    expect(req.query).toEqual({});
    expect(req.headers.authorization).toBe('Bearer sk-local');
    expect(req.headers['api-key']).toBeUndefined();
    expect(req.body).toMatchObject({ model: 'llama3.1:8b', max_tokens: 100 });
    expect(result.model).toBe('llama3.1:8b');
    expect(result.usage).toEqual({ inputTokens: 12, outputTokens: 7 });
  });

  it("sends the agent's deployment as the model", async () => {
    await model().complete(chatRequest({ model: { deployment: 'qwen2.5' } }), { signal: signal() });
    expect(server.requests[0]?.body).toMatchObject({ model: 'qwen2.5' });
  });

  it('sends no Authorization header when no key is configured (local servers)', async () => {
    const anonymous = await startAzureOpenAIServer({ deployments: ['llama3.1:8b'], allowAnonymous: true });
    try {
      const local = createOpenAICompatibleModel({
        baseURL: `${anonymous.url}/openai/v1/`,
        model: 'llama3.1:8b',
      });
      const result = await local.complete(chatRequest(), { signal: signal() });
      expect(result.message.content).toBe('ok: Say hello to the team.');
      expect(anonymous.requests[0]?.headers.authorization).toBeUndefined();
    } finally {
      await anonymous.close();
    }
  });

  it('structured output, tools and parallel_tool_calls take the same shape as on Azure', async () => {
    server.setBehaviour({ toolCalls: true });
    const tools = [
      { name: 'search', description: 'Search.', parameters: { type: 'object', properties: {} } },
    ];
    await model().complete(
      chatRequest({
        tools,
        toolChoice: 'required',
        parallelToolCalls: false,
        responseFormat: { name: 'answer', schema: answerSchema, strict: true },
      }),
      { signal: signal() },
    );
    expect(server.requests[0]?.body).toMatchObject({
      tools: [
        {
          type: 'function',
          function: { name: 'search', description: 'Search.', parameters: tools[0]!.parameters },
        },
      ],
      tool_choice: 'required',
      parallel_tool_calls: false,
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'answer', schema: answerSchema, strict: true },
      },
    });
  });

  it('streams deltas and usage', async () => {
    server.setBehaviour({ reply: 'alpha beta', chunkDelayMs: 5 });
    const deltas: string[] = [];
    const result = await model().complete(chatRequest(), {
      signal: signal(),
      onDelta: (t) => deltas.push(t),
    });
    expect(deltas).toEqual(['alpha ', 'beta']);
    expect(result.message.content).toBe('alpha beta');
    expect(result.usage).toEqual({ inputTokens: 12, outputTokens: 3 });
  });

  it('maps 429 (retry-after seconds), 503 and 404 like the Azure provider', async () => {
    server.setBehaviour({ rateLimit: { count: 1, retryAfterSeconds: 1 } });
    const limited = await rejectionOf(model().complete(chatRequest(), { signal: signal() }));
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect((limited as RateLimitedError).retryAfterMs).toBe(1000);

    server.setBehaviour({ fail: { status: 503 } });
    expect(await rejectionOf(model().complete(chatRequest(), { signal: signal() }))).toBeInstanceOf(
      TransientModelError,
    );

    server.setBehaviour({});
    const unknown = await rejectionOf(
      model().complete(chatRequest({ model: { deployment: 'missing-model' } }), { signal: signal() }),
    );
    expect(unknown).toBeInstanceOf(PermanentModelError);
  });

  it('abort closes the request server-side', async () => {
    server.setBehaviour({ hang: {} });
    const controller = new AbortController();
    const pending = model().complete(chatRequest(), { signal: controller.signal });
    await until(() => server.requests.length === 1);
    controller.abort();
    expect(((await rejectionOf(pending)) as Error).name).toBe('AbortError');
    await until(() => server.requests[0]?.clientClosed === true, 2_000);
  });

  it('against an Azure v1 endpoint without a key, sends an Entra ID bearer token', async () => {
    const credential = fixedCredential('entra-v1');
    // The Azure host is kept in the configuration; the transport delivers to the local server.
    const toLocal: typeof fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : input.toString());
      return fetch(`${server.url}${url.pathname}${url.search}`, init);
    };
    const v1 = createOpenAICompatibleModel({
      baseURL: 'https://my-res.openai.azure.com/openai/v1/',
      model: 'qwen2.5',
      credential,
      fetch: toLocal,
    });
    await v1.complete(chatRequest(), { signal: signal() });
    expect(server.requests[0]?.path).toBe('/openai/v1/chat/completions');
    expect(server.requests[0]?.headers.authorization).toBe('Bearer entra-v1');
    expect(credential.scopes[0]).toEqual(['https://cognitiveservices.azure.com/.default']);
  });

  it('recognises Azure v1 endpoints (Entra ID without a key)', () => {
    expect(isAzureHost('https://my-res.openai.azure.com/openai/v1/')).toBe(true);
    expect(isAzureHost('https://my-res.services.ai.azure.com/openai/v1/')).toBe(true);
    expect(isAzureHost('http://localhost:11434/v1')).toBe(false);
  });
});
