import { AIProjectClient, type FunctionTool } from '@azure/ai-projects';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createFoundryProvisioner,
  type FoundryAgentPlan,
  FoundryProvisionError,
  promptDefinition,
  sameDefinition,
} from '../../src/models/foundry-provision.js';
import { type FoundryServer, localHttpClient, startFoundryServer } from '../support/foundry-server.js';
import { fixedCredential, rejectionOf } from './helpers.js';

const ENDPOINT = 'https://baton-res.services.ai.azure.com/api/projects/baton';

const answerSchema = {
  type: 'object',
  properties: { verdict: { enum: ['approve', 'reject'] }, reason: { type: 'string' } },
  required: ['verdict', 'reason'],
  additionalProperties: false,
};
const lookupParameters = {
  type: 'object',
  properties: { id: { type: 'string' } },
  required: ['id'],
  additionalProperties: false,
};

const reviewer: FoundryAgentPlan = {
  name: 'reviewer',
  model: 'gpt-4o-mini',
  instructions: 'Approve or reject the change, with a reason.',
  description: 'Reviews changes.',
  temperature: 0.2,
  outputSchema: answerSchema,
  tools: [{ name: 'lookup_order', description: 'Find an order', parameters: lookupParameters }],
  metadata: { 'baton-team': 'review-desk', 'baton-agent': 'reviewer' },
};

describe('provisioning Foundry agents from definitions', () => {
  let server: FoundryServer;
  let http: ReturnType<typeof localHttpClient>;

  beforeAll(async () => {
    server = await startFoundryServer({ bearerTokens: ['entra-token'], agents: [] });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    http = localHttpClient(server.url);
  });

  const provisioner = () =>
    createFoundryProvisioner({
      endpoint: ENDPOINT,
      credential: fixedCredential('entra-token'),
      httpClient: http,
    });
  const calls = () => server.requests.map((r) => `${r.method} ${r.path}`);

  it('creates the first version from the definition, in the shape the package sends', async () => {
    const result = await provisioner().provision(reviewer);
    expect(result).toEqual({ name: 'reviewer', version: '1', outcome: 'created' });
    expect(calls()).toEqual([
      'GET /api/projects/baton/agents/reviewer',
      'POST /api/projects/baton/agents/reviewer/versions',
    ]);
    expect(http.urls[1]).toBe(`${ENDPOINT}/agents/reviewer/versions?api-version=v1`);
    expect(server.requests[1]?.body).toEqual({
      description: 'Reviews changes.',
      metadata: { 'baton-team': 'review-desk', 'baton-agent': 'reviewer' },
      definition: {
        kind: 'prompt',
        model: 'gpt-4o-mini',
        instructions: 'Approve or reject the change, with a reason.',
        temperature: 0.2,
        // The flat function-tool shape: name, parameters and strict at the top level.
        tools: [
          {
            type: 'function',
            name: 'lookup_order',
            description: 'Find an order',
            parameters: lookupParameters,
            strict: true,
          },
        ],
        text: { format: { type: 'json_schema', name: 'reviewer', schema: answerSchema, strict: true } },
      },
    });
    expect(server.versions('reviewer').map((v) => v.version)).toEqual(['1']);
  });

  it('creates nothing when the latest version already holds the definition', async () => {
    const result = await provisioner().provision(reviewer);
    expect(result).toEqual({ name: 'reviewer', version: '1', outcome: 'unchanged', previousVersion: '1' });
    expect(calls()).toEqual(['GET /api/projects/baton/agents/reviewer']);
    expect(server.versions('reviewer')).toHaveLength(1);
  });

  it('creates the next version when the definition changed', async () => {
    const changed = { ...reviewer, instructions: 'Approve only changes with tests.' };
    expect(await provisioner().provision(changed)).toEqual({
      name: 'reviewer',
      version: '2',
      outcome: 'created',
      previousVersion: '1',
    });
    expect(await provisioner().provision(changed)).toMatchObject({ version: '2', outcome: 'unchanged' });
    // The schema is part of the definition too.
    const reworded = {
      ...changed,
      outputSchema: {
        ...answerSchema,
        properties: { ...answerSchema.properties, reason: { type: 'string', minLength: 10 } },
      },
    };
    expect(await provisioner().provision(reworded)).toMatchObject({ version: '3', outcome: 'created' });
    const versions = server.versions('reviewer');
    expect(versions.map((v) => v.definition.instructions)).toEqual([
      'Approve or reject the change, with a reason.',
      'Approve only changes with tests.',
      'Approve only changes with tests.',
    ]);
    // listVersions and getVersion read them back, newest first.
    const project = new AIProjectClient(ENDPOINT, fixedCredential('entra-token'), { httpClient: http });
    const listed: string[] = [];
    for await (const v of project.agents.listVersions('reviewer')) listed.push(v.version);
    expect(listed).toEqual(['3', '2', '1']);
    expect((await project.agents.getVersion('reviewer', '2')).definition).toMatchObject({
      kind: 'prompt',
      instructions: 'Approve only changes with tests.',
    });
  });

  it('compares only what it manages: an empty tool list equals none', () => {
    const plain: FoundryAgentPlan = { name: 'plain', model: 'gpt-4o', instructions: 'Hi.' };
    expect(
      sameDefinition({ ...promptDefinition(plain), tools: [], top_p: undefined }, promptDefinition(plain)),
    ).toBe(true);
    expect(sameDefinition(promptDefinition({ ...plain, temperature: 1 }), promptDefinition(plain))).toBe(
      false,
    );
    expect(sameDefinition(promptDefinition({ ...plain, model: 'gpt-4.1' }), promptDefinition(plain))).toBe(
      false,
    );
  });

  it('reports a refusal in one sentence naming the agent and the parameter', async () => {
    const err = await rejectionOf(provisioner().provision({ ...reviewer, name: 'broken', model: '' }));
    expect(err).toBeInstanceOf(FoundryProvisionError);
    expect((err as FoundryProvisionError).message).toBe(
      'Foundry agent "broken": the project refused the deploy: A prompt agent needs a model deployment. (definition.model)',
    );
    expect((err as FoundryProvisionError).details).toMatchObject({
      status: 400,
      providerCode: 'invalid_payload',
    });
    expect(server.versions('broken')).toEqual([]);
  });

  it('the local project refuses the nested Chat Completions tool shape, which the package sends without its name', async () => {
    const project = new AIProjectClient(ENDPOINT, fixedCredential('entra-token'), {
      httpClient: http,
      retryOptions: { maxRetries: 0 },
    });
    const nested = {
      type: 'function',
      function: { name: 'lookup_order', parameters: lookupParameters, strict: true },
    };
    const err = await rejectionOf(
      project.agents.createVersion('nested', {
        kind: 'prompt',
        model: 'gpt-4o-mini',
        tools: [nested as unknown as FunctionTool],
      }),
    );
    expect((err as Error).message).toContain("Missing required parameter: 'tools[0].name'.");
    const sent = server.requests.at(-1)?.body as { definition: { tools: unknown[] } } | undefined;
    expect(sent?.definition.tools).toEqual([{ type: 'function' }]);
  });
});
