import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { teamDefinitionSchema } from '../../src/teams/schema.js';

const team = (guardrails: unknown) => ({
  name: 'desk',
  description: 'A desk.',
  agents: [{ name: 'writer', description: 'Writes.', instructions: 'Write.' }],
  patterns: { sequential: { order: ['writer'] } },
  guardrails,
});

const problems = (guardrails: unknown) => {
  const parsed = teamDefinitionSchema.safeParse(team(guardrails));
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('guardrails in the team document', () => {
  it('takes a full declaration with its defaults', () => {
    const parsed = teamDefinitionSchema.parse(
      team({
        pii: { mode: 'redact', patterns: [{ name: 'customer_id', pattern: 'CUS-\\d{6}' }] },
        promptShields: { mode: 'on' },
        contentSafety: { mode: 'on' },
        output: { maxChars: 100, judge: { agent: 'writer', policy: 'Be kind.' } },
      }),
    );
    expect(parsed.guardrails).toMatchObject({
      promptShields: { onAttack: 'block', onUnavailable: 'closed' },
      contentSafety: { maxSeverity: 2, onUnavailable: 'closed' },
      output: { onFail: 'reask', judge: { maxCalls: 20 } },
    });
  });

  it('refuses a bad pattern, an unknown mode, an unknown agent and an unknown judge with sentences', () => {
    expect(problems({ pii: { mode: 'redact', patterns: [{ name: 'x', pattern: '(' }] } })).toEqual([
      'guardrails.pii.patterns.0.pattern: must be a valid regular expression',
    ]);
    expect(problems({ pii: { mode: 'mask' } })[0]).toMatch(/^guardrails\.pii\.mode: /);
    expect(problems({ output: { agents: ['editor'] } })).toEqual([
      'guardrails.output.agents.0: unknown agent "editor"',
    ]);
    expect(problems({ output: { judge: { agent: 'judge', policy: 'p' } } })).toEqual([
      'guardrails.output.judge.agent: unknown agent "judge"',
    ]);
  });
});

describe('guardrails configuration', () => {
  it('reads the operator’s PII default and the Content Safety settings', () => {
    const config = loadConfig({
      BATON_GUARDRAILS_PII: 'redact',
      AZURE_CONTENT_SAFETY_ENDPOINT: 'https://cs-baton.cognitiveservices.azure.com',
    });
    expect(config.guardrails).toEqual({
      pii: 'redact',
      contentSafety: {
        endpoint: 'https://cs-baton.cognitiveservices.azure.com',
        apiKey: undefined,
        apiVersion: '2024-09-01',
        timeoutMs: 5_000,
        breaker: { failureThreshold: 5, halfOpenAfterMs: 30_000 },
      },
    });
    expect(loadConfig({}).guardrails).toEqual({ pii: 'off', contentSafety: undefined });
    expect(() => loadConfig({ BATON_GUARDRAILS_PII: 'mask' })).toThrow(/BATON_GUARDRAILS_PII/);
  });
});
