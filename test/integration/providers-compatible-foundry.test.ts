import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newsDeskOutputSchema } from '../../evals/news-desk-output.js';
import { shippedTeams } from '../../src/teams/files.js';
import { fixedCredential } from '../models/helpers.js';
import {
  type AzureOpenAIServer,
  type ChatBody,
  type RecordedRequest,
  startAzureOpenAIServer,
} from '../support/azure-openai-server.js';
import { type FoundryServer, localHttpClient, startFoundryServer } from '../support/foundry-server.js';
import {
  AZURE_KEY,
  chatRequests,
  compatibleEnv,
  DEPLOYMENT,
  reportedUsage,
  requestsFor,
  runToEnd,
  type Stack,
  startInProcessService,
  startStack,
  taggedArticle,
} from '../support/providers.js';

const newsDesk = shippedTeams().get('news-desk')!;

/**
 * The core acceptance run (news-desk, sequential) through the two other real providers:
 *
 * - openai-compatible, in `baton api` + `baton worker` processes, against the local server's `/openai/v1/`
 *   surface (OPENAI_BASE_URL, OPENAI_API_KEY, BATON_MODEL);
 * - foundry, in-process (API + worker over real HTTP and Redis): the Foundry client needs an https project
 *   endpoint and an Entra ID credential, which environment variables cannot point at a local http server, so the
 *   worker's model router is built with an injected credential and transport.
 */
const SEQUENTIAL_AGENTS = ['summarizer', 'classifier', 'extractor', 'analyst', 'editor'];

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('openai-compatible provider (processes)', () => {
  let server: AzureOpenAIServer;
  beforeAll(async () => {
    server = await startAzureOpenAIServer({ deployments: [DEPLOYMENT], apiKeys: [AZURE_KEY] });
    await stack.worker(compatibleEnv(server));
  });
  afterAll(async () => {
    await server?.close();
  });

  it('sequential news-desk goes to /openai/v1/chat/completions with the bearer key and json_schema outputs', async () => {
    const { tag, input } = taggedArticle('compatible');
    const { run } = await runToEnd(stack.client, { team: 'news-desk', pattern: 'sequential', input });

    expect(run.error).toBeUndefined();
    expect(run.status).toBe('succeeded');
    expect(run.steps.map((s) => s.agent)).toEqual(SEQUENTIAL_AGENTS);
    expect(newsDeskOutputSchema.safeParse(run.output?.structured).success).toBe(true);

    const requests = requestsFor(chatRequests(server), tag);
    expect(requests).toHaveLength(SEQUENTIAL_AGENTS.length);
    for (const r of requests) {
      expect(`${r.method} ${r.path}`).toBe('POST /openai/v1/chat/completions');
      expect(r.query['api-version']).toBeUndefined();
      expect(r.headers.authorization).toBe(`Bearer ${AZURE_KEY}`);
      expect(r.headers['api-key']).toBeUndefined();
      expect(r.status).toBe(200);
      const body = r.body as ChatBody;
      expect(body.model).toBe(DEPLOYMENT);
      expect(body.response_format?.type).toBe('json_schema');
      expect(body.response_format?.json_schema?.schema).toMatchObject({ type: 'object' });
    }
    expect(requests.map((r) => (r.body as ChatBody).response_format?.json_schema?.name)).toEqual(
      SEQUENTIAL_AGENTS,
    );
    expect(run.usage).toMatchObject({ ...reportedUsage(requests), modelCalls: requests.length });
  }, 30_000);
});

describe('foundry provider (in-process service)', () => {
  const ENDPOINT = 'https://baton-res.services.ai.azure.com/api/projects/baton';
  const TOKEN = 'entra-token';
  let server: FoundryServer;
  let service: Awaited<ReturnType<typeof startInProcessService>>;

  beforeAll(async () => {
    // The Foundry project holds one agent per news-desk agent, with the baton agent's output schema as its
    // structured output format.
    server = await startFoundryServer({
      bearerTokens: [TOKEN],
      agents: newsDesk.agents.map((a) => ({
        name: a.name,
        model: DEPLOYMENT,
        ...(a.outputSchema ? { responseSchema: a.outputSchema.jsonSchema } : {}),
      })),
    });
    service = await startInProcessService(
      stack.redis,
      { BATON_MODEL_PROVIDER: 'foundry', AZURE_AI_PROJECT_ENDPOINT: ENDPOINT },
      {
        credential: fixedCredential(TOKEN),
        foundry: {
          httpClient: localHttpClient(server.url),
          openAIBaseURL: `${server.projectUrl}/openai/v1`,
        },
      },
    );
  });
  afterAll(async () => {
    await service?.stop();
    await server?.close();
  });

  it('sequential news-desk looks each agent up once and runs it through Responses with an agent reference', async () => {
    const { tag, input } = taggedArticle('foundry');
    const { run, events } = await runToEnd(service.client, {
      team: 'news-desk',
      pattern: 'sequential',
      input,
    });

    expect(run.error).toBeUndefined();
    expect(run.status).toBe('succeeded');
    expect(run.steps.map((s) => s.agent)).toEqual(SEQUENTIAL_AGENTS);
    expect(newsDeskOutputSchema.safeParse(run.output?.structured).success).toBe(true);

    const lookups = server.requests.filter((r: RecordedRequest) => r.method === 'GET');
    expect(lookups.map((r) => r.path)).toEqual(
      SEQUENTIAL_AGENTS.map((a) => `/api/projects/baton/agents/${a}`),
    );
    for (const r of lookups) {
      expect(r.query['api-version']).toBe('v1');
      expect(r.status).toBe(200);
    }

    const responses = requestsFor(server.requests, tag);
    expect(responses).toHaveLength(SEQUENTIAL_AGENTS.length);
    for (const [i, r] of responses.entries()) {
      expect(`${r.method} ${r.path}`).toBe('POST /api/projects/baton/openai/v1/responses');
      expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        agent: { name: SEQUENTIAL_AGENTS[i], type: 'agent_reference' },
        stream: true,
      });
      // Model, instructions and tools belong to the Foundry agent: none travel with the reference.
      for (const key of ['model', 'instructions', 'tools', 'temperature', 'response_format'])
        expect(r.body).not.toHaveProperty(key);
    }
    // Streamed through the Responses events.
    for (const agent of SEQUENTIAL_AGENTS) {
      const delta = events.findIndex((e) => e.type === 'agent.delta' && e.agent === agent);
      const done = events.findIndex((e) => e.type === 'agent.completed' && e.agent === agent);
      expect(delta, `delta of ${agent}`).toBeGreaterThanOrEqual(0);
      expect(delta).toBeLessThan(done);
    }
    expect(run.usage).toMatchObject({ ...reportedUsage(responses), modelCalls: responses.length });
    expect(run.usage.inputTokens).toBeGreaterThan(0);
  }, 30_000);
});
