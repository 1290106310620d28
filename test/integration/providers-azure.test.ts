import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newsDeskOutputSchema } from '../../evals/news-desk-output.js';
import type { RunEvent } from '../../src/core/events.js';
import {
  type AzureOpenAIServer,
  type ChatBody,
  startAzureOpenAIServer,
} from '../support/azure-openai-server.js';
import {
  API_VERSION,
  AZURE_KEY,
  azureEnv,
  chatRequests,
  DEPLOYMENT,
  reportedUsage,
  requestsFor,
  runToEnd,
  type Stack,
  startStack,
  taggedArticle,
} from '../support/providers.js';

/**
 * Acceptance of the Azure OpenAI provider through the whole service: `baton api` and `baton worker` processes, a
 * private Redis and the local Azure OpenAI server, with BATON_MODEL_PROVIDER=azure-openai.
 */
let server: AzureOpenAIServer;
let stack: Stack;

beforeAll(async () => {
  server = await startAzureOpenAIServer({ deployments: [DEPLOYMENT], apiKeys: [AZURE_KEY] });
  stack = await startStack();
  await stack.worker({ ...azureEnv(server), BATON_RETRY_INITIAL_DELAY_MS: '50' });
});
afterAll(async () => {
  await stack?.stop();
  await server?.close();
});
beforeEach(() => server.setBehaviour({}));

const SEQUENTIAL_AGENTS = ['summarizer', 'classifier', 'extractor', 'analyst', 'editor'];

function expectAzureRequest(body: unknown, r: (typeof server.requests)[number]): void {
  expect(r.method).toBe('POST');
  expect(r.path).toBe(`/openai/deployments/${DEPLOYMENT}/chat/completions`);
  expect(r.query['api-version']).toBe(API_VERSION);
  expect(r.headers['api-key']).toBe(AZURE_KEY);
  expect(r.headers.authorization).toBeUndefined();
  const chat = body as ChatBody;
  expect(chat.response_format?.type).toBe('json_schema');
  expect(chat.response_format?.json_schema?.schema).toMatchObject({ type: 'object' });
}

describe('news-desk through API → queue → worker → Azure OpenAI', () => {
  it('sequential: deployment path, api-version, api-key, json_schema outputs, usage as reported', async () => {
    const { tag, input } = taggedArticle('sequential');
    const { run } = await runToEnd(stack.client, { team: 'news-desk', pattern: 'sequential', input });

    expect(run.error).toBeUndefined();
    expect(run.status).toBe('succeeded');
    expect(run.steps.map((s) => s.agent)).toEqual(SEQUENTIAL_AGENTS);
    expect(newsDeskOutputSchema.safeParse(run.output?.structured).success).toBe(true);

    const requests = requestsFor(chatRequests(server), tag);
    expect(requests).toHaveLength(SEQUENTIAL_AGENTS.length);
    for (const r of requests) {
      expectAzureRequest(r.body, r);
      expect(r.status).toBe(200);
    }
    // Each agent asked for its own output schema, in the pattern's order.
    expect(requests.map((r) => (r.body as ChatBody).response_format?.json_schema?.name)).toEqual(
      SEQUENTIAL_AGENTS,
    );

    const reported = reportedUsage(requests);
    expect(reported.inputTokens).toBeGreaterThan(0);
    expect(reported.outputTokens).toBeGreaterThan(0);
    expect(run.usage).toMatchObject({ ...reported, modelCalls: requests.length });
    const stepTotal = run.steps.reduce(
      (sum, s) => ({
        inputTokens: sum.inputTokens + s.usage.inputTokens,
        outputTokens: sum.outputTokens + s.usage.outputTokens,
      }),
      { inputTokens: 0, outputTokens: 0 },
    );
    expect(stepTotal).toEqual(reported);
    for (const s of run.steps) expect(s.model).toBe(DEPLOYMENT);
  }, 30_000);

  it('magentic: manager ledgers and participants go to the deployment; usage and calls match the server', async () => {
    const { tag, input } = taggedArticle('magentic');
    // The local server answers each schema with its minimal instance: the manager never reports the request
    // satisfied nor progress, so maxRounds bounds the run (rounds 1-3 ask a participant, round 4 replans).
    const { run, events } = await runToEnd(stack.client, {
      team: 'news-desk',
      pattern: 'magentic',
      input,
      options: { maxRounds: 5 },
    });

    expect(run.error).toBeUndefined();
    expect(run.status).toBe('succeeded');
    expect(run.details).toMatchObject({ rounds: 5, resets: 1, stopReason: 'MAX_ROUNDS' });
    expect(newsDeskOutputSchema.safeParse(run.output?.structured).success).toBe(true);
    expect(events.filter((e) => e.type === 'plan.created')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'ledger.updated')).toHaveLength(5);

    const requests = requestsFor(chatRequests(server), tag);
    // plan + 5 progress ledgers + 1 replan + 4 participant answers + the final answer
    expect(requests).toHaveLength(12);
    for (const r of requests) {
      expectAzureRequest(r.body, r);
      expect(r.status).toBe(200);
    }
    const names = requests.map((r) => (r.body as ChatBody).response_format?.json_schema?.name);
    expect(names.filter((n) => n === 'desk-manager')).toHaveLength(8);
    expect(names.filter((n) => n === 'summarizer')).toHaveLength(4);
    expect(run.steps.map((s) => s.agent).filter((a) => a !== 'desk-manager')).toEqual([
      'summarizer',
      'summarizer',
      'summarizer',
      'summarizer',
    ]);
    expect(run.usage).toMatchObject({ ...reportedUsage(requests), modelCalls: requests.length });
  }, 30_000);
});

describe('streaming', () => {
  it('agent.delta events arrive before agent.completed for the same step, and carry the streamed answer', async () => {
    server.setBehaviour({ chunkDelayMs: 5 });
    const { tag, input } = taggedArticle('stream');
    const { run, events } = await runToEnd(stack.client, { team: 'news-desk', pattern: 'sequential', input });
    expect(run.status).toBe('succeeded');

    const requests = requestsFor(chatRequests(server), tag);
    expect(requests).toHaveLength(5);
    for (const r of requests) {
      expect(r.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    }

    const completed = events.filter((e) => e.type === 'agent.completed');
    expect(completed.map((e) => e.agent)).toEqual(SEQUENTIAL_AGENTS);
    for (const done of completed) {
      const at = events.indexOf(done);
      const deltas = events.filter(
        (e): e is Extract<RunEvent, { type: 'agent.delta' }> =>
          e.type === 'agent.delta' && e.step === done.step,
      );
      expect(deltas.length, `deltas of ${done.step}`).toBeGreaterThan(0);
      for (const d of deltas) expect(events.indexOf(d)).toBeLessThan(at);
      const started = events.findIndex((e) => e.type === 'agent.started' && e.step === done.step);
      expect(started).toBeGreaterThanOrEqual(0);
      expect(started).toBeLessThan(events.indexOf(deltas[0] as RunEvent));
      // The streamed text is the structured answer itself.
      expect(() => JSON.parse(deltas.map((d) => d.text).join(''))).not.toThrow();
    }
    const editor = completed.at(-1);
    const editorText = events
      .filter((e) => e.type === 'agent.delta' && e.step === editor?.step)
      .map((e) => (e as { text: string }).text)
      .join('');
    expect(JSON.parse(editorText)).toEqual(run.output?.structured);
  }, 30_000);

  it('with options.stream false the requests are not streamed and no agent.delta is emitted', async () => {
    const { tag, input } = taggedArticle('no-stream');
    const { run, events } = await runToEnd(stack.client, {
      team: 'news-desk',
      pattern: 'sequential',
      input,
      options: { stream: false },
    });
    expect(run.status).toBe('succeeded');
    expect(events.filter((e) => e.type === 'agent.delta')).toHaveLength(0);
    const requests = requestsFor(chatRequests(server), tag);
    expect(requests).toHaveLength(5);
    for (const r of requests) expect((r.body as ChatBody).stream).toBeUndefined();
    expect(run.usage).toMatchObject({ ...reportedUsage(requests), modelCalls: 5 });
  }, 30_000);
});

describe('429 with retry-after', () => {
  it('retries the affected step after the advertised wait and the run succeeds', async () => {
    const retryAfterSeconds = 1;
    server.setBehaviour({ rateLimit: { count: 2, retryAfterSeconds } });
    const { tag, input } = taggedArticle('429');
    const { run, events } = await runToEnd(stack.client, { team: 'news-desk', pattern: 'sequential', input });

    expect(run.error).toBeUndefined();
    expect(run.status).toBe('succeeded');
    expect(run.steps.map((s) => [s.agent, s.attempts])).toEqual([
      ['summarizer', 3],
      ['classifier', 1],
      ['extractor', 1],
      ['analyst', 1],
      ['editor', 1],
    ]);
    const summarizerDone = events.find((e) => e.type === 'agent.completed' && e.agent === 'summarizer');
    expect(summarizerDone).toMatchObject({ attempts: 3 });

    const requests = requestsFor(chatRequests(server), tag);
    expect(requests.map((r) => r.status)).toEqual([429, 429, 200, 200, 200, 200, 200]);
    const [first, second, third] = requests;
    if (!first || !second || !third) throw new Error('expected three requests for the summarizer');
    // Every retry waited at least what the 429 advertised, measured on the server.
    expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(retryAfterSeconds * 1000);
    expect(third.receivedAt - second.receivedAt).toBeGreaterThanOrEqual(retryAfterSeconds * 1000);
    // ...and not much more: the wait is the header's, not a long default backoff.
    expect(third.receivedAt - first.receivedAt).toBeLessThan(2 * retryAfterSeconds * 1000 + 1_500);

    // Throttled attempts are model calls too; the 429s reported no usage.
    expect(run.usage).toMatchObject({ ...reportedUsage(requests), modelCalls: requests.length });
  }, 30_000);
});
