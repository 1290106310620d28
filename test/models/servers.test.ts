import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAzureOpenAIModel } from '../../src/models/azure-openai.js';
import {
  type AzureOpenAIServer,
  minimalInstance,
  type RecordedRequest,
  startAzureOpenAIServer,
} from '../support/azure-openai-server.js';
import { chatRequest } from './helpers.js';

/** The local Azure OpenAI server itself: it must behave like the service for the provider tests to mean anything. */
describe('local Azure OpenAI server protocol', () => {
  let server: AzureOpenAIServer;
  beforeAll(async () => {
    server = await startAzureOpenAIServer({ apiKeys: ['k'] });
  });
  afterAll(() => server.close());

  const post = (
    path: string,
    headers: Record<string, string>,
    body: unknown = { messages: [{ role: 'user', content: 'hi' }] },
  ) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it('401 without credentials, with an Azure-shaped body', async () => {
    const res = await post('/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21', {});
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('401');
  });

  it('400 without api-version, 404 DeploymentNotFound for an unknown deployment', async () => {
    expect((await post('/openai/deployments/gpt-4o-mini/chat/completions', { 'api-key': 'k' })).status).toBe(
      400,
    );
    const res = await post('/openai/deployments/nope/chat/completions?api-version=2024-10-21', {
      'api-key': 'k',
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('DeploymentNotFound');
  });

  it('refuses parallel_tool_calls without tools and strict schemas that strict mode cannot take', async () => {
    const url = '/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21';
    const messages = [{ role: 'user', content: 'hi' }];
    expect((await post(url, { 'api-key': 'k' }, { messages, parallel_tool_calls: false })).status).toBe(400);
    const loose = {
      messages,
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'x',
          strict: true,
          schema: { type: 'object', properties: { a: { type: 'string' } } },
        },
      },
    };
    expect((await post(url, { 'api-key': 'k' }, loose)).status).toBe(400);
  });

  it('answers with usage and Azure content filter results', async () => {
    const res = await post('/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21', {
      'api-key': 'k',
    });
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      object: 'chat.completion',
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
      prompt_filter_results: [{ prompt_index: 0 }],
      choices: [{ finish_reason: 'stop', content_filter_results: { violence: { filtered: false } } }],
    });
  });

  it('builds minimal instances of JSON Schemas', () => {
    expect(
      minimalInstance({
        type: 'object',
        properties: {
          kind: { enum: ['a', 'b'] },
          n: { type: ['integer', 'null'], minimum: 3 },
          list: { type: 'array', items: { $ref: '#/$defs/Item' }, minItems: 1 },
          maybe: { anyOf: [{ type: 'null' }, { type: 'boolean' }] },
        },
        $defs: { Item: { type: 'object', properties: { id: { type: 'string' } } } },
      }),
    ).toEqual({ kind: 'a', n: 3, list: [{ id: 'x' }], maybe: false });
  });
});

describe('local Azure OpenAI server started from another process', () => {
  let child: ChildProcess;
  let url: string;
  beforeAll(async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'test/support/azure-openai-server.ts', '0'], {
      env: { ...process.env, DEPLOYMENTS: 'gpt-4o-mini' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    url = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
      lines.once('line', (line) => resolve((JSON.parse(line) as { url: string }).url));
    });
  });
  afterAll(() => {
    child.kill('SIGTERM');
  });

  it('is scripted and inspected over HTTP', async () => {
    await fetch(`${url}/_control/behaviour`, { method: 'PUT', body: JSON.stringify({ reply: 'from afar' }) });
    const model = createAzureOpenAIModel({
      endpoint: url,
      apiVersion: '2024-10-21',
      deployment: 'gpt-4o-mini',
      apiKey: 'test-key',
    });
    const result = await model.complete(chatRequest(), { signal: new AbortController().signal });
    expect(result.message.content).toBe('from afar');
    const requests = (await (await fetch(`${url}/_control/requests`)).json()) as RecordedRequest[];
    expect(requests.map((r) => r.path)).toEqual(['/openai/deployments/gpt-4o-mini/chat/completions']);
  });
});
