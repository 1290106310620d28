import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ContentFilteredError,
  PermanentModelError,
  RateLimitedError,
  TransientModelError,
} from '../../src/core/errors.js';
import type { ChatModel } from '../../src/core/model.js';
import { createFoundryModel } from '../../src/models/foundry.js';
import { type FoundryServer, localHttpClient, startFoundryServer } from '../support/foundry-server.js';
import { answerSchema, chatRequest, fixedCredential, rejectionOf, until } from './helpers.js';

/** What AZURE_AI_PROJECT_ENDPOINT looks like; requests are rewritten to the local server by the http client. */
const ENDPOINT = 'https://baton-res.services.ai.azure.com/api/projects/baton';

describe('foundry provider against the local Foundry project', () => {
  let server: FoundryServer;
  let credential: ReturnType<typeof fixedCredential>;
  let http: ReturnType<typeof localHttpClient>;
  let model: ChatModel;

  beforeAll(async () => {
    server = await startFoundryServer({
      bearerTokens: ['entra-token'],
      agents: [
        { name: 'writer', model: 'gpt-4o' },
        { name: 'triage', tools: [{ name: 'route', parameters: answerSchema }] },
        { name: 'grader', responseSchema: answerSchema },
      ],
    });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    server.setBehaviour({});
    credential = fixedCredential('entra-token');
    http = localHttpClient(server.url);
    model = createFoundryModel({
      endpoint: ENDPOINT,
      credential,
      httpClient: http,
      openAIBaseURL: `${server.projectUrl}/openai/v1`,
    });
  });

  const signal = () => new AbortController().signal;

  it('looks the agent up once, then runs it through the Responses protocol with an agent reference', async () => {
    const result = await model.complete(chatRequest({ model: { foundryAgent: 'writer' } }), {
      signal: signal(),
    });
    expect(http.urls).toEqual([`${ENDPOINT}/agents/writer?api-version=v1`]);
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/projects/baton/agents/writer',
      'POST /api/projects/baton/openai/v1/responses',
    ]);
    for (const r of server.requests) expect(r.headers.authorization).toBe('Bearer entra-token');
    expect(credential.scopes.flat()).toContain('https://ai.azure.com/.default');
    expect(server.requests[1]?.body).toEqual({
      input: [
        { type: 'message', role: 'system', content: 'You write short answers.' },
        { type: 'message', role: 'user', content: 'Say hello to the team.' },
      ],
      agent: { name: 'writer', type: 'agent_reference' },
    });
    expect(result).toMatchObject({
      message: { role: 'assistant', content: 'writer: Say hello to the team.' },
      toolCalls: [],
      usage: { inputTokens: 12, outputTokens: 8 },
      model: 'gpt-4o',
      finishReason: 'stop',
    });

    await model.complete(chatRequest({ model: { foundryAgent: 'writer' } }), { signal: signal() });
    expect(server.requests.filter((r) => r.method === 'GET')).toHaveLength(1);
  });

  it("defaults the Foundry agent to the baton agent's name and never sends tools or sampling settings", async () => {
    server.setBehaviour({ toolCalls: true });
    const result = await model.complete(
      chatRequest({
        agent: 'triage',
        model: { temperature: 0.1, deployment: 'gpt-4o' },
        tools: [{ name: 'route', description: 'Route.', parameters: {} }],
        parallelToolCalls: false,
      }),
      { signal: signal() },
    );
    const body = server.requests[1]?.body as Record<string, unknown>;
    expect(body.agent).toEqual({ name: 'triage', type: 'agent_reference' });
    for (const key of ['tools', 'parallel_tool_calls', 'tool_choice', 'temperature', 'model']) {
      expect(body).not.toHaveProperty(key);
    }
    expect(result.finishReason).toBe('tool_calls');
    expect(result.toolCalls).toEqual([
      { id: expect.stringMatching(/^call_/), name: 'route', arguments: '{"title":"x","score":1,"tags":[]}' },
    ]);

    // The tool result goes back as function_call_output after the function_call.
    const call = result.toolCalls[0]!;
    await model.complete(
      chatRequest({
        agent: 'triage',
        messages: [
          { role: 'user', content: 'Route this.' },
          { role: 'assistant', content: '', toolCalls: [call] },
          { role: 'tool', toolCallId: call.id, content: 'routed' },
        ],
      }),
      { signal: signal() },
    );
    expect((server.requests[2]!.body as { input: unknown }).input).toEqual([
      { type: 'message', role: 'user', content: 'Route this.' },
      { type: 'function_call', call_id: call.id, name: 'route', arguments: call.arguments },
      { type: 'function_call_output', call_id: call.id, output: 'routed' },
    ]);
  });

  it('streams text deltas before resolving, usage from the final event', async () => {
    server.setBehaviour({ reply: 'first second third', chunkDelayMs: 40 });
    const deltas: { text: string; at: number }[] = [];
    const result = await model.complete(chatRequest({ agent: 'writer' }), {
      signal: signal(),
      onDelta: (text) => deltas.push({ text, at: Date.now() }),
    });
    const resolvedAt = Date.now();
    expect((server.requests[1]!.body as Record<string, unknown>).stream).toBe(true);
    expect(deltas.map((d) => d.text)).toEqual(['first ', 'second ', 'third']);
    expect(deltas[0]!.at).toBeLessThan(resolvedAt - 100);
    expect(result.message.content).toBe('first second third');
    expect(result.usage).toEqual({ inputTokens: 12, outputTokens: 5 });
  });

  it('an unknown agent is a PermanentModelError naming it, and the lookup is retried next time', async () => {
    const err = await rejectionOf(model.complete(chatRequest({ agent: 'ghost' }), { signal: signal() }));
    expect(err).toBeInstanceOf(PermanentModelError);
    expect((err as Error).message).toContain('"ghost"');
    await rejectionOf(model.complete(chatRequest({ agent: 'ghost' }), { signal: signal() }));
    expect(server.requests.filter((r) => r.path.endsWith('/agents/ghost'))).toHaveLength(2);
  });

  it('maps 429 (retry-after-ms), 500, 400 and the content filter', async () => {
    await model.complete(chatRequest({ agent: 'writer' }), { signal: signal() }); // agent now known

    server.setBehaviour({ rateLimit: { count: 1, retryAfterMs: 2500 } });
    const limited = await rejectionOf(model.complete(chatRequest({ agent: 'writer' }), { signal: signal() }));
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect((limited as RateLimitedError).retryAfterMs).toBe(2500);

    server.setBehaviour({ fail: { status: 500 } });
    expect(
      await rejectionOf(model.complete(chatRequest({ agent: 'writer' }), { signal: signal() })),
    ).toBeInstanceOf(TransientModelError);

    server.setBehaviour({ fail: { status: 400 } });
    expect(
      await rejectionOf(model.complete(chatRequest({ agent: 'writer' }), { signal: signal() })),
    ).toBeInstanceOf(PermanentModelError);

    server.setBehaviour({ contentFilter: 'prompt' });
    expect(
      await rejectionOf(model.complete(chatRequest({ agent: 'writer' }), { signal: signal() })),
    ).toBeInstanceOf(ContentFilteredError);

    server.setBehaviour({ contentFilter: 'completion' });
    expect(
      await rejectionOf(model.complete(chatRequest({ agent: 'writer' }), { signal: signal() })),
    ).toBeInstanceOf(ContentFilteredError);
  });

  it('a wrong token is refused (401 → PermanentModelError)', async () => {
    const stranger = createFoundryModel({
      endpoint: ENDPOINT,
      credential: fixedCredential('someone-else'),
      httpClient: localHttpClient(server.url),
      openAIBaseURL: `${server.projectUrl}/openai/v1`,
    });
    const err = await rejectionOf(stranger.complete(chatRequest({ agent: 'writer' }), { signal: signal() }));
    expect(err).toBeInstanceOf(PermanentModelError);
    expect((err as PermanentModelError).details).toMatchObject({ status: 401 });
  });

  it('abort rejects with the signal reason and closes the response request server-side', async () => {
    await model.complete(chatRequest({ agent: 'writer' }), { signal: signal() });
    server.requests.length = 0;
    server.setBehaviour({ hang: {} });
    const controller = new AbortController();
    const pending = model.complete(chatRequest({ agent: 'writer' }), { signal: controller.signal });
    await until(() => server.requests.length === 1);
    const reason = new Error('timed out');
    controller.abort(reason);
    expect(await rejectionOf(pending)).toBe(reason);
    await until(() => server.requests[0]?.clientClosed === true, 2_000);
  });

  it('abort during the agent lookup aborts the lookup request', async () => {
    // An Azure pipeline transport that never answers, but reports whether the request's abort signal fired.
    let lookupAborted = false;
    const slow = createFoundryModel({
      endpoint: ENDPOINT,
      credential,
      httpClient: {
        sendRequest: (request) =>
          new Promise((_, reject) => {
            request.abortSignal?.addEventListener('abort', () => {
              lookupAborted = true;
              reject(new Error('lookup aborted'));
            });
          }),
      },
      openAIBaseURL: `${server.projectUrl}/openai/v1`,
    });
    const controller = new AbortController();
    const pending = slow.complete(chatRequest({ agent: 'writer' }), { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    expect(((await rejectionOf(pending)) as Error).name).toBe('AbortError');
    expect(lookupAborted).toBe(true);
    expect(server.requests).toHaveLength(0);
  });

  it('re-asks once when a structured answer is not valid JSON', async () => {
    server.setBehaviour({ invalidJson: { count: 1 } });
    const result = await model.complete(
      chatRequest({ agent: 'grader', responseFormat: { name: 'grade', schema: answerSchema, strict: true } }),
      { signal: signal() },
    );
    const posts = server.requests.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(2);
    const input = (posts[1]!.body as { input: { role: string; content: string }[] }).input;
    expect(input.at(-2)?.role).toBe('assistant');
    expect(input.at(-1)?.content).toMatch(/not valid JSON/);
    expect(JSON.parse(result.message.content)).toEqual({ title: 'x', score: 1, tags: [] });
    // Broken answer: 45 characters (12 tokens); corrected: 33 characters (9 tokens).
    expect(result.usage.outputTokens).toBe(12 + 9);
  });
});
