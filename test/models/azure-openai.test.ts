import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ContentFilteredError,
  PermanentModelError,
  RateLimitedError,
  TransientModelError,
} from '../../src/core/errors.js';
import type { ChatModel } from '../../src/core/model.js';
import { createAzureOpenAIModel } from '../../src/models/azure-openai.js';
import { type AzureOpenAIServer, startAzureOpenAIServer } from '../support/azure-openai-server.js';
import { answerSchema, chatRequest, fixedCredential, rejectionOf, until } from './helpers.js';

const API_VERSION = '2024-10-21';

describe('azure-openai provider against the local Azure OpenAI server', () => {
  let server: AzureOpenAIServer;
  let model: ChatModel;

  beforeAll(async () => {
    server = await startAzureOpenAIServer({
      deployments: ['gpt-4o-mini', 'gpt-4o'],
      models: { 'gpt-4o-mini': 'gpt-4o-mini-2024-07-18' },
      apiKeys: ['secret-key'],
    });
    model = createAzureOpenAIModel({
      endpoint: `${server.url}/`,
      apiVersion: API_VERSION,
      deployment: 'gpt-4o-mini',
      apiKey: 'secret-key',
    });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    server.setBehaviour({});
  });

  const signal = () => new AbortController().signal;

  it('puts a deployment name in the request path URL-encoded, whatever it contains', async () => {
    const err = await rejectionOf(
      model.complete(chatRequest({ model: { deployment: '../../other/path?x=1#' } }), { signal: signal() }),
    );
    expect(err).toBeInstanceOf(PermanentModelError); // an unknown deployment: 404
    expect(server.requests).toHaveLength(1);
    const req = server.requests[0]!;
    expect(req.path).toBe('/openai/deployments/..%2F..%2Fother%2Fpath%3Fx%3D1%23/chat/completions');
    expect(req.query).toEqual({ 'api-version': API_VERSION });
  });

  it('sends the deployment in the path, the api-version in the query and the key in api-key', async () => {
    const result = await model.complete(
      chatRequest({ model: { temperature: 0.2, seed: 7, maxOutputTokens: 64 } }),
      { signal: signal() },
    );
    expect(server.requests).toHaveLength(1);
    const req = server.requests[0]!;
    expect(req.path).toBe('/openai/deployments/gpt-4o-mini/chat/completions');
    expect(req.query).toEqual({ 'api-version': API_VERSION });
    expect(req.headers['api-key']).toBe('secret-key');
    expect(req.headers.authorization).toBeUndefined();
    expect(req.body).toMatchObject({
      model: 'gpt-4o-mini',
      temperature: 0.2,
      seed: 7,
      max_completion_tokens: 64,
      messages: [
        { role: 'system', content: 'You write short answers.' },
        { role: 'user', content: 'Say hello to the team.' },
      ],
    });
    const body = req.body as Record<string, unknown>;
    expect(body).not.toHaveProperty('stream');
    expect(body).not.toHaveProperty('tools');
    expect(body).not.toHaveProperty('parallel_tool_calls');
    expect(body).not.toHaveProperty('tool_choice');
    expect(body).not.toHaveProperty('response_format');

    expect(result.message).toEqual({ role: 'assistant', content: 'ok: Say hello to the team.' });
    expect(result.model).toBe('gpt-4o-mini-2024-07-18');
    expect(result.finishReason).toBe('stop');
    expect(result.toolCalls).toEqual([]);
    // The server counts ~4 characters a token: 48 prompt characters (two messages and a newline), 26 answer characters.
    expect(result.usage).toEqual({ inputTokens: 12, outputTokens: 7 });
  });

  it('sends max_tokens instead of max_completion_tokens to api-versions before 2024-09-01', async () => {
    const older = createAzureOpenAIModel({
      endpoint: server.url,
      apiVersion: '2024-06-01',
      deployment: 'gpt-4o-mini',
      apiKey: 'secret-key',
    });
    await older.complete(chatRequest({ model: { maxOutputTokens: 64 } }), { signal: signal() });
    expect(server.requests[0]?.query).toEqual({ 'api-version': '2024-06-01' });
    expect(server.requests[0]?.body).toMatchObject({ max_tokens: 64 });
    expect(server.requests[0]?.body).not.toHaveProperty('max_completion_tokens');
  });

  it("uses the agent's deployment over the default", async () => {
    await model.complete(chatRequest({ model: { deployment: 'gpt-4o' } }), { signal: signal() });
    expect(server.requests[0]?.path).toBe('/openai/deployments/gpt-4o/chat/completions');
  });

  it('asks for structured output with a json_schema response_format, strict only when the schema allows it', async () => {
    const strict = await model.complete(
      chatRequest({ responseFormat: { name: 'verdict', schema: answerSchema, strict: true } }),
      { signal: signal() },
    );
    expect((server.requests[0]!.body as Record<string, unknown>).response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'verdict', schema: answerSchema, strict: true },
    });
    expect(JSON.parse(strict.message.content)).toEqual({ title: 'x', score: 1, tags: [] });

    const loose = {
      type: 'object',
      properties: { title: { type: 'string' }, note: { type: 'string' } },
      required: ['title'],
    };
    const result = await model.complete(
      chatRequest({ responseFormat: { name: 'loose', schema: loose, strict: true } }),
      { signal: signal() },
    );
    expect((server.requests[1]!.body as Record<string, unknown>).response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'loose', schema: loose, strict: false },
    });
    expect(JSON.parse(result.message.content)).toEqual({ title: 'x', note: 'x' });
  });

  it('offers tools, maps tool calls back, and sends parallel_tool_calls false when asked', async () => {
    server.setBehaviour({ toolCalls: { names: ['handoff_to_billing', 'handoff_to_support'] } });
    const tools = [
      {
        name: 'handoff_to_billing',
        description: 'Hand the conversation to billing.',
        parameters: {
          type: 'object',
          properties: { reason: { type: 'string' } },
          required: ['reason'],
          additionalProperties: false,
        },
      },
      {
        name: 'handoff_to_support',
        description: 'Hand over to support.',
        parameters: { type: 'object', properties: {} },
      },
    ];
    const result = await model.complete(
      chatRequest({ tools, toolChoice: 'auto', parallelToolCalls: false }),
      { signal: signal() },
    );
    const body = server.requests[0]?.body as Record<string, unknown>;
    expect(body.parallel_tool_calls).toBe(false);
    expect(body.tool_choice).toBe('auto');
    expect(body.tools).toEqual(
      tools.map((t) => ({
        type: 'function',
        function: { name: t.name, description: t.description, parameters: t.parameters },
      })),
    );
    expect(result.finishReason).toBe('tool_calls');
    expect(result.toolCalls).toHaveLength(1);
    expect(result.toolCalls[0]).toMatchObject({ name: 'handoff_to_billing', arguments: '{"reason":"x"}' });
    expect(result.toolCalls[0]?.id).toMatch(/^call_/);

    // The tool result goes back as a tool message after the assistant's tool call.
    const call = result.toolCalls[0]!;
    const followUp = await model.complete(
      chatRequest({
        tools,
        messages: [
          { role: 'user', content: 'My invoice is wrong.' },
          { role: 'assistant', content: '', toolCalls: [call] },
          { role: 'tool', toolCallId: call.id, content: 'handed off' },
        ],
      }),
      { signal: signal() },
    );
    expect(followUp.finishReason).toBe('stop');
    expect((server.requests[1]!.body as { messages: unknown[] }).messages).toEqual([
      { role: 'user', content: 'My invoice is wrong.' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } },
        ],
      },
      { role: 'tool', tool_call_id: call.id, content: 'handed off' },
    ]);
    expect(body).not.toHaveProperty('stream');
  });

  it('streams: deltas arrive before the call resolves, usage comes from the final chunk', async () => {
    server.setBehaviour({ reply: 'one two three four five', chunkDelayMs: 40 });
    const deltas: { text: string; at: number }[] = [];
    let resolvedAt = 0;
    const result = await model
      .complete(chatRequest(), { signal: signal(), onDelta: (text) => deltas.push({ text, at: Date.now() }) })
      .then((r) => {
        resolvedAt = Date.now();
        return r;
      });
    const body = server.requests[0]?.body as Record<string, unknown>;
    expect(body.stream).toBe(true);
    expect(body.stream_options).toEqual({ include_usage: true });
    expect(deltas.map((d) => d.text)).toEqual(['one ', 'two ', 'three ', 'four ', 'five']);
    expect(deltas[0]!.at).toBeLessThan(resolvedAt - 100);
    expect(result.message.content).toBe('one two three four five');
    expect(result.usage).toEqual({ inputTokens: 12, outputTokens: 6 });
    expect(result.finishReason).toBe('stop');
    expect(result.model).toBe('gpt-4o-mini-2024-07-18');
  });

  it('streams tool calls by accumulating their deltas', async () => {
    server.setBehaviour({ toolCalls: true });
    const deltas: string[] = [];
    const result = await model.complete(
      chatRequest({
        tools: [
          {
            name: 'lookup',
            description: 'Look up an order.',
            parameters: {
              type: 'object',
              properties: {
                orderId: { type: 'string', minLength: 6 },
                count: { type: 'integer', minimum: 2 },
              },
              required: ['orderId', 'count'],
              additionalProperties: false,
            },
          },
        ],
      }),
      { signal: signal(), onDelta: (t) => deltas.push(t) },
    );
    expect(deltas).toEqual([]);
    expect(result.finishReason).toBe('tool_calls');
    expect(result.toolCalls).toEqual([
      { id: expect.stringMatching(/^call_/), name: 'lookup', arguments: '{"orderId":"xxxxxx","count":2}' },
    ]);
  });

  describe('error mapping', () => {
    it('429 with retry-after-ms → RateLimitedError with those milliseconds', async () => {
      server.setBehaviour({ rateLimit: { count: 1, retryAfterMs: 1500, retryAfterSeconds: 2 } });
      const err = await rejectionOf(model.complete(chatRequest(), { signal: signal() }));
      expect(err).toBeInstanceOf(RateLimitedError);
      expect((err as RateLimitedError).retryAfterMs).toBe(1500);
      expect((err as RateLimitedError).retryable).toBe(true);
      // Only one request: the client does not retry on its own.
      expect(server.requests).toHaveLength(1);
      // The next request passes.
      await expect(model.complete(chatRequest(), { signal: signal() })).resolves.toBeTruthy();
    });

    it('429 with retry-after in seconds or as an HTTP date', async () => {
      server.setBehaviour({ rateLimit: { count: 1, retryAfterSeconds: 3 } });
      const seconds = await rejectionOf(model.complete(chatRequest(), { signal: signal() }));
      expect((seconds as RateLimitedError).retryAfterMs).toBe(3000);

      server.setBehaviour({
        rateLimit: { count: 1, retryAfterDate: new Date(Date.now() + 10_000).toUTCString() },
      });
      const date = await rejectionOf(model.complete(chatRequest(), { signal: signal() }));
      expect(date).toBeInstanceOf(RateLimitedError);
      expect((date as RateLimitedError).retryAfterMs).toBeGreaterThan(7_000);
      expect((date as RateLimitedError).retryAfterMs).toBeLessThanOrEqual(10_000);
    });

    it('500 → TransientModelError, once (no SDK retries)', async () => {
      server.setBehaviour({ fail: { status: 500 } });
      const err = await rejectionOf(model.complete(chatRequest(), { signal: signal() }));
      expect(err).toBeInstanceOf(TransientModelError);
      expect((err as TransientModelError).details).toMatchObject({ status: 500, provider: 'azure-openai' });
      expect(server.requests).toHaveLength(1);
    });

    it('408 and 409 → TransientModelError', async () => {
      for (const status of [408, 409]) {
        server.setBehaviour({ fail: { status } });
        expect(await rejectionOf(model.complete(chatRequest(), { signal: signal() }))).toBeInstanceOf(
          TransientModelError,
        );
      }
    });

    it('400 → PermanentModelError', async () => {
      server.setBehaviour({ fail: { status: 400 } });
      const err = await rejectionOf(model.complete(chatRequest(), { signal: signal() }));
      expect(err).toBeInstanceOf(PermanentModelError);
      expect((err as PermanentModelError).retryable).toBe(false);
    });

    it('unknown deployment (404) and a wrong key (401) → PermanentModelError', async () => {
      const missing = await rejectionOf(
        model.complete(chatRequest({ model: { deployment: 'nope' } }), { signal: signal() }),
      );
      expect(missing).toBeInstanceOf(PermanentModelError);
      expect((missing as PermanentModelError).details).toMatchObject({
        status: 404,
        providerCode: 'DeploymentNotFound',
      });

      const wrongKey = createAzureOpenAIModel({
        endpoint: server.url,
        apiVersion: API_VERSION,
        deployment: 'gpt-4o-mini',
        apiKey: 'wrong',
      });
      const denied = await rejectionOf(wrongKey.complete(chatRequest(), { signal: signal() }));
      expect(denied).toBeInstanceOf(PermanentModelError);
      expect((denied as PermanentModelError).details).toMatchObject({ status: 401 });
    });

    it('a prompt refused by the content filter (400 content_filter) → ContentFilteredError', async () => {
      server.setBehaviour({ contentFilter: 'prompt' });
      const err = await rejectionOf(model.complete(chatRequest(), { signal: signal() }));
      expect(err).toBeInstanceOf(ContentFilteredError);
      expect((err as ContentFilteredError).details).toMatchObject({ categories: ['violence'] });
    });

    it('an answer withheld by the content filter (finish_reason content_filter) → ContentFilteredError', async () => {
      server.setBehaviour({ contentFilter: 'completion' });
      const err = await rejectionOf(model.complete(chatRequest(), { signal: signal() }));
      expect(err).toBeInstanceOf(ContentFilteredError);
      expect((err as ContentFilteredError).details).toMatchObject({ categories: ['violence'] });
      const streamed = await rejectionOf(
        model.complete(chatRequest(), { signal: signal(), onDelta: () => {} }),
      );
      expect(streamed).toBeInstanceOf(ContentFilteredError);
    });

    it('a connection dropped mid-stream → TransientModelError', async () => {
      server.setBehaviour({ reply: 'one two three four', dropStreamAfterChunks: 2, chunkDelayMs: 20 });
      const deltas: string[] = [];
      const err = await rejectionOf(
        model.complete(chatRequest(), { signal: signal(), onDelta: (t) => deltas.push(t) }),
      );
      expect(err).toBeInstanceOf(TransientModelError);
      expect(deltas).toEqual(['one ', 'two ']);
    });

    it('an exception thrown by the delta callback is not mistaken for a provider failure', async () => {
      const err = await rejectionOf(
        model.complete(chatRequest(), {
          signal: signal(),
          onDelta: () => {
            throw new TypeError('bug in a listener');
          },
        }),
      );
      expect(err).toBeInstanceOf(TypeError);
    });

    it('a refused connection → TransientModelError', async () => {
      const closed = await startAzureOpenAIServer();
      const url = closed.url;
      await closed.close();
      const unreachable = createAzureOpenAIModel({
        endpoint: url,
        apiVersion: API_VERSION,
        deployment: 'x',
        apiKey: 'k',
      });
      const err = await rejectionOf(unreachable.complete(chatRequest(), { signal: signal() }));
      expect(err).toBeInstanceOf(TransientModelError);
    });
  });

  describe('abort', () => {
    it('rejects with the signal reason and closes the request server-side', async () => {
      // The server never answers: only the abort can end the call (and the reason shows it did).
      server.setBehaviour({ hang: {} });
      const controller = new AbortController();
      const pending = model.complete(chatRequest(), { signal: controller.signal });
      await until(() => server.requests.length === 1);
      const reason = new Error('agent timeout');
      controller.abort(reason);
      const err = await rejectionOf(pending);
      expect(err).toBe(reason);
      await until(() => server.requests[0]?.clientClosed === true, 2_000);
      expect(server.requests[0]?.clientClosed).toBe(true);
    });

    it('aborts a stream mid-answer and closes it', async () => {
      server.setBehaviour({ reply: 'a b c d e f g h i j k l m n o p', chunkDelayMs: 100 });
      const controller = new AbortController();
      const deltas: string[] = [];
      const pending = model.complete(chatRequest(), {
        signal: controller.signal,
        onDelta: (t) => {
          deltas.push(t);
          if (deltas.length === 2) controller.abort();
        },
      });
      const err = await rejectionOf(pending);
      expect((err as Error).name).toBe('AbortError');
      await until(() => server.requests[0]?.clientClosed === true, 2_000);
      expect(deltas.length).toBeLessThan(5);
    });

    it('an already aborted signal sends nothing', async () => {
      const controller = new AbortController();
      controller.abort();
      const err = await rejectionOf(model.complete(chatRequest(), { signal: controller.signal }));
      expect((err as Error).name).toBe('AbortError');
      expect(server.requests).toHaveLength(0);
    });
  });

  describe('corrective retry for structured output', () => {
    it('re-asks once when the answer is not JSON, and sums the usage of both calls', async () => {
      server.setBehaviour({ invalidJson: { count: 1 } });
      const result = await model.complete(
        chatRequest({ responseFormat: { name: 'verdict', schema: answerSchema, strict: true } }),
        { signal: signal() },
      );
      expect(server.requests).toHaveLength(2);
      expect(JSON.parse(result.message.content)).toEqual({ title: 'x', score: 1, tags: [] });
      const second = server.requests[1]?.body as { messages: { role: string; content: string }[] };
      expect(second.messages).toHaveLength(4);
      expect(second.messages[2]).toMatchObject({ role: 'assistant' });
      expect(second.messages[2]?.content).toMatch(/^Sure! Here it is:/);
      expect(second.messages[3]?.role).toBe('user');
      expect(second.messages[3]?.content).toMatch(/not valid JSON/);
      // First call: 12 prompt tokens; second call: the longer conversation. Both answers are counted.
      expect(result.usage.inputTokens).toBeGreaterThan(12 + 12);
      // The broken answer has 50 characters (13 tokens), the corrected one 33 (9 tokens).
      expect(result.usage.outputTokens).toBe(13 + 9);
    });

    it('re-asks when the JSON does not match the schema, and only once', async () => {
      server.setBehaviour({ invalidJson: { count: 2, kind: 'shape' } });
      const result = await model.complete(
        chatRequest({ responseFormat: { name: 'verdict', schema: answerSchema, strict: true } }),
        { signal: signal() },
      );
      expect(server.requests).toHaveLength(2);
      const corrective = (server.requests[1]!.body as { messages: { content: string }[] }).messages[3]
        ?.content;
      expect(corrective).toMatch(/does not match the schema/);
      expect(corrective).toMatch(/title/);
      // The second answer is returned as it is: judging it is the runtime's job.
      expect(JSON.parse(result.message.content)).toEqual({ unexpected: true });
    });

    it('does not re-ask when the answer is valid', async () => {
      await model.complete(
        chatRequest({ responseFormat: { name: 'verdict', schema: answerSchema, strict: true } }),
        {
          signal: signal(),
        },
      );
      expect(server.requests).toHaveLength(1);
    });
  });

  describe('Entra ID', () => {
    it('without a key, sends the credential token as Authorization: Bearer for the Cognitive Services scope', async () => {
      const credential = fixedCredential('entra-token-123');
      const entra = createAzureOpenAIModel({
        endpoint: server.url,
        apiVersion: API_VERSION,
        deployment: 'gpt-4o-mini',
        credential,
      });
      await entra.complete(chatRequest(), { signal: signal() });
      const req = server.requests[0]!;
      expect(req.headers.authorization).toBe('Bearer entra-token-123');
      expect(req.headers['api-key']).toBeUndefined();
      expect(credential.scopes[0]).toEqual(['https://cognitiveservices.azure.com/.default']);
    });
  });
});
