import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createFoundryModel } from '../../src/models/foundry.js';
import { foundryPlans } from '../../src/teams/foundry-deploy.js';
import {
  type TeamDefinition,
  type TeamDefinitionInput,
  teamDefinitionSchema,
} from '../../src/teams/schema.js';
import { teamsDeployCommand } from '../../src/teams-command.js';
import { fixedCredential } from '../models/helpers.js';
import { type FoundryServer, localHttpClient, startFoundryServer } from '../support/foundry-server.js';

const ENDPOINT = 'https://baton-res.services.ai.azure.com/api/projects/baton';

const verdictSchema = z.object({ verdict: z.enum(['approve', 'reject']), reason: z.string().min(1) });

/** A team defined once: two agents on Foundry, one on the default provider. */
function reviewDesk(change: (t: TeamDefinitionInput) => TeamDefinitionInput = (t) => t): TeamDefinition {
  const input: TeamDefinitionInput = {
    name: 'review-desk',
    description: 'Reviews a change.',
    agents: [
      {
        name: 'reader',
        description: 'Summarises the change.',
        instructions: 'Summarise the change in two sentences.',
        model: { provider: 'foundry', deployment: 'gpt-4o-mini', temperature: 0 },
      },
      {
        name: 'judge',
        description: 'Approves or rejects.',
        instructions: 'Approve or reject the change with a reason.',
        model: { provider: 'foundry', deployment: 'gpt-4.1', foundryAgent: 'review-judge' },
        outputSchema: verdictSchema,
      },
      {
        name: 'notes',
        description: 'Keeps notes offline.',
        instructions: 'Write a note.',
        model: { provider: 'simulated' },
      },
    ],
    patterns: { sequential: { order: ['reader', 'judge', 'notes'] } },
  };
  return teamDefinitionSchema.parse(change(input));
}

function sink() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => {
    text += d.toString();
  });
  return { stream, text: () => text };
}

describe('baton teams deploy <team> --to foundry', () => {
  let server: FoundryServer;

  beforeAll(async () => {
    server = await startFoundryServer({ bearerTokens: ['entra-token'], agents: [] });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
  });

  async function deploy(
    team: TeamDefinition | undefined,
    flags: { to?: string; model?: string } = {},
    env = {},
  ) {
    const out = sink();
    const err = sink();
    const code = await teamsDeployCommand(
      team?.name ?? 'review-desk',
      { to: flags.to ?? 'foundry', ...(flags.model ? { model: flags.model } : {}) },
      {
        env: { AZURE_AI_PROJECT_ENDPOINT: ENDPOINT, ...env },
        teams: () => new Map(team ? [[team.name, team]] : []),
        stdout: out.stream,
        stderr: err.stream,
        foundry: { credential: fixedCredential('entra-token'), httpClient: localHttpClient(server.url) },
      },
    );
    return { code, out: out.text(), err: err.text() };
  }

  const posts = () => server.requests.filter((r) => r.method === 'POST').map((r) => r.path);

  it('provisions every Foundry agent of the team, with its instructions, model and output schema', async () => {
    const result = await deploy(reviewDesk());
    expect(result).toEqual({
      code: 0,
      out: 'reader → Foundry agent "reader" version 1 (created)\njudge → Foundry agent "review-judge" version 1 (created)\n',
      err: '',
    });
    expect(posts()).toEqual([
      '/api/projects/baton/agents/reader/versions',
      '/api/projects/baton/agents/review-judge/versions',
    ]);
    const [judge] = server.versions('review-judge');
    expect(judge?.metadata).toEqual({ 'baton-team': 'review-desk', 'baton-agent': 'judge' });
    expect(judge?.description).toBe('Approves or rejects.');
    expect(judge?.definition).toMatchObject({
      kind: 'prompt',
      model: 'gpt-4.1',
      instructions: 'Approve or reject the change with a reason.',
      text: { format: { type: 'json_schema', name: 'review-judge', strict: true } },
    });
    expect(server.versions('reader')[0]?.definition).toMatchObject({ model: 'gpt-4o-mini', temperature: 0 });
    expect(server.versions('notes')).toEqual([]);
  });

  it('is a no-op for an unchanged team and creates one version for a changed agent', async () => {
    expect(await deploy(reviewDesk())).toMatchObject({
      code: 0,
      out: 'reader → Foundry agent "reader" version 1 (unchanged)\njudge → Foundry agent "review-judge" version 1 (unchanged)\n',
    });
    expect(posts()).toEqual([]);
    const changed = reviewDesk((t) => ({
      ...t,
      agents: t.agents.map((a) =>
        a.name === 'judge' ? { ...a, instructions: 'Reject any change without tests.' } : a,
      ),
    }));
    expect((await deploy(changed)).out).toBe(
      'reader → Foundry agent "reader" version 1 (unchanged)\njudge → Foundry agent "review-judge" version 2 (created; was 1)\n',
    );
    expect(posts()).toEqual(['/api/projects/baton/agents/review-judge/versions']);
  });

  it('deploys what the foundry provider then runs: the answer is in the agent’s schema', async () => {
    const model = createFoundryModel({
      endpoint: ENDPOINT,
      credential: fixedCredential('entra-token'),
      httpClient: localHttpClient(server.url),
      openAIBaseURL: `${server.projectUrl}/openai/v1`,
    });
    const result = await model.complete(
      {
        agent: 'judge',
        model: { provider: 'foundry', foundryAgent: 'review-judge' },
        messages: [{ role: 'user', content: 'Add a retry to the uploader.' }],
        seed: 0,
      },
      { signal: new AbortController().signal },
    );
    expect(verdictSchema.safeParse(JSON.parse(result.message.content)).success).toBe(true);
  });

  it('takes agents without a provider from BATON_MODEL_PROVIDER, and --model for those without a deployment', () => {
    const team = reviewDesk((t) => ({
      ...t,
      agents: t.agents.map((a) => (a.name === 'notes' ? { ...a, model: {} } : a)),
    }));
    expect(foundryPlans(team, { defaultProvider: 'simulated' }).map((p) => p.name)).toEqual([
      'reader',
      'review-judge',
    ]);
    expect(() => foundryPlans(team, { defaultProvider: 'foundry' })).toThrow(
      'Agent "notes" of team "review-desk" names no model deployment: set its model.deployment or pass --model.',
    );
    const plans = foundryPlans(team, { defaultProvider: 'foundry', defaultDeployment: 'gpt-4o' });
    expect(plans.map((p) => [p.name, p.model])).toEqual([
      ['reader', 'gpt-4o-mini'],
      ['review-judge', 'gpt-4.1'],
      ['notes', 'gpt-4o'],
    ]);
  });

  it('refuses in one sentence: no endpoint, an unknown team, a team without Foundry agents, a refused deploy', async () => {
    expect(await deploy(reviewDesk(), {}, { AZURE_AI_PROJECT_ENDPOINT: undefined })).toMatchObject({
      code: 2,
      err: 'baton teams deploy: deploying to Foundry needs AZURE_AI_PROJECT_ENDPOINT (https://<resource>.services.ai.azure.com/api/projects/<project>).\n',
    });
    expect(await deploy(undefined)).toMatchObject({
      code: 1,
      err: 'baton teams deploy: unknown team "review-desk"; known teams: .\n',
    });
    const offline = reviewDesk((t) => ({
      ...t,
      agents: t.agents.map((a) => ({ ...a, model: { provider: 'simulated' } })),
    }));
    expect(await deploy(offline)).toMatchObject({
      code: 1,
      err: 'baton teams deploy: Team "review-desk" has no agent on the foundry provider (model.provider: foundry, or BATON_MODEL_PROVIDER=foundry).\n',
    });
    const twins = reviewDesk((t) => ({
      ...t,
      agents: t.agents.map((a) =>
        a.name === 'judge' ? { ...a, model: { ...a.model, foundryAgent: 'reader' } } : a,
      ),
    }));
    expect((await deploy(twins)).err).toBe(
      'baton teams deploy: Agents "reader" and "judge" of team "review-desk" would both be Foundry agent "reader": give one a model.foundryAgent.\n',
    );
    const badName = reviewDesk((t) => ({
      ...t,
      agents: t.agents.map((a) =>
        a.name === 'reader' ? { ...a, model: { ...a.model, foundryAgent: 'bad_name' } } : a,
      ),
    }));
    expect(await deploy(badName)).toMatchObject({
      code: 1,
      err: 'baton teams deploy: Foundry agent "bad_name": the project refused the deploy: Invalid agent name \'bad_name\'. (agent_name)\n',
    });
    expect(await deploy(reviewDesk(), { to: 'bedrock' })).toMatchObject({ code: 1 });
  });
});
