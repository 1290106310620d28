import { describe, expect, it } from 'vitest';
import { admissionProblems, hostAllowed, toolRules } from '../../src/teams/admission.js';
import { type TeamDefinitionInput, teamDefinitionSchema } from '../../src/teams/schema.js';

const team = (tools: TeamDefinitionInput['tools']) =>
  teamDefinitionSchema.parse({
    name: 'api-team',
    description: 'Registered through the API.',
    agents: [
      {
        name: 'clerk',
        description: 'Clerk.',
        instructions: 'Answer.',
        tools: tools?.map((t) => t.name) ?? [],
      },
    ],
    patterns: { sequential: { order: ['clerk'] } },
    tools,
  });

const http = (url: string) => ({ name: 'api', kind: 'http' as const, description: 'An API.', url });

describe('tools of teams registered through the API (BATON_TOOL_HOSTS)', () => {
  it('matches host, host:port and *.domain entries', () => {
    expect(hostAllowed('https://api.example.com/x', ['api.example.com'])).toBe(true);
    expect(hostAllowed('https://api.example.com:8443/x', ['api.example.com:443'])).toBe(false);
    expect(hostAllowed('https://api.example.com/x', ['api.example.com:443'])).toBe(true);
    expect(hostAllowed('https://a.b.example.com/x', ['*.example.com'])).toBe(true);
    expect(hostAllowed('https://example.com/x', ['*.example.com'])).toBe(false);
    expect(hostAllowed('http://127.0.0.1:9000/x', ['api.example.com'])).toBe(false);
  });

  it('refuses hosts not allowed and every stdio MCP server, naming the field', () => {
    const rules = toolRules(['api.example.com']);
    expect(admissionProblems(team([http('https://api.example.com/v1/{id}')]), rules)).toEqual([]);
    expect(admissionProblems(team([http('http://127.0.0.1:9000/admin')]), rules)).toEqual([
      {
        path: ['tools', 0, 'url'],
        message:
          'calls 127.0.0.1:9000, which BATON_TOOL_HOSTS does not allow for teams registered through the API',
      },
    ]);
    const stdio = team([{ name: 'srv', kind: 'mcp', command: ['node', 'server.js'] }]);
    expect(admissionProblems(stdio, toolRules(['*']))[0]?.path).toEqual(['tools', 0, 'command']);
    expect(admissionProblems(team([http('https://api.example.com/')]), toolRules([]))).toHaveLength(1);
  });
});
