import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TeamDefinitionInput, teamDefinitionSchema } from '../../src/teams/schema.js';
import { ToolRuntime } from '../../src/tools/runtime.js';
import { createTestEngine } from '../support/engine.js';

/** A customer service whose answers carry personal data: what a tool brings back is input to the next model turn. */
const EMAIL = 'sam.customer@fabrikam-mail.example';
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((_req, res) => {
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ customer: 'Sam', contact: EMAIL, plan: 'pro' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function team(guardrails: TeamDefinitionInput['guardrails']) {
  const input: TeamDefinitionInput = {
    name: 'accounts',
    description: 'An agent that looks customers up.',
    agents: [
      {
        name: 'clerk',
        description: 'Looks customers up.',
        instructions: 'Look the customer up and answer.',
        tools: ['customer'],
      },
    ],
    patterns: { sequential: { order: ['clerk'] } },
    tools: [
      {
        name: 'customer',
        kind: 'http',
        description: 'A customer by id.',
        method: 'GET',
        url: `${base}/customers/{id}`,
        parameters: {
          type: 'object',
          properties: { id: { type: 'string', default: 'c-1' } },
          required: ['id'],
        },
      },
    ],
    ...(guardrails ? { guardrails } : {}),
  };
  return new Map([['accounts', teamDefinitionSchema.parse(input)]]);
}

const request = { team: 'accounts', pattern: 'sequential' as const, input: 'Who is customer c-1?' };

describe('tool results and the run’s guardrails', () => {
  it('redact: the model’s turn after a tool call sees placeholders, not the personal data the tool returned', async () => {
    const engine = createTestEngine({
      teams: team({ pii: { mode: 'redact' } }),
      tools: new ToolRuntime({ secrets: new Map(), maxResultChars: 16_000 }),
    });
    const out = await engine.run(request);
    expect(out.status).toBe('succeeded');
    const toolMessages = engine.model.requests.flatMap((r) => r.messages.filter((m) => m.role === 'tool'));
    expect(toolMessages.length).toBeGreaterThan(0);
    const sent = JSON.stringify(engine.model.requests.map((r) => r.messages));
    expect(sent).toContain('<EMAIL_1>');
    expect(sent).not.toContain(EMAIL);
  });

  it('without guardrails the tool result reaches the model as it came (the check above is the guardrail’s doing)', async () => {
    const engine = createTestEngine({
      teams: team(undefined),
      tools: new ToolRuntime({ secrets: new Map(), maxResultChars: 16_000 }),
    });
    const out = await engine.run(request);
    expect(out.status).toBe('succeeded');
    expect(JSON.stringify(engine.model.requests.map((r) => r.messages))).toContain(EMAIL);
  });
});
