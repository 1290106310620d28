import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { newsDeskOutputSchema } from '../../evals/news-desk-output.js';
import { supportDeskOutputSchema } from '../../evals/support-desk-output.js';
import { loadConfig } from '../../src/config/index.js';
import { parseTeamText, problemSentence, type TeamProblem } from '../../src/teams/document.js';
import { defaultTeamsDir, loadTeamFiles, shippedTeams } from '../../src/teams/files.js';
import { teamFileJsonSchema } from '../../src/teams/json-schema.js';
import { modelEnvironment } from '../../src/teams/models.js';

const env = modelEnvironment(loadConfig({}));
const teamsDir = defaultTeamsDir();

/** A valid three-agent team document; tests break one thing in it at a time. */
const valid = `# yaml-language-server: $schema=./team.schema.json
name: review-desk
description: Reviews a pull request.
outputSchema:
  type: object
  properties:
    verdict: { type: string, enum: [approve, request-changes] }
    findings:
      type: array
      items:
        type: object
        properties:
          file: { type: string }
          notes: { type: array, items: { type: string } }
        required: [file, notes]
  required: [verdict, findings]
agents:
  - name: reader
    description: Reads the change.
    instructions: Read the change and list what it does.
  - name: critic
    description: Finds problems.
    instructions: Find problems in the change.
    handoffs: [reader]
  - name: judge
    description: Decides.
    instructions: Decide whether to approve.
patterns:
  sequential: { order: [reader, critic, judge] }
  concurrent: { agents: [reader, critic], aggregator: { agent: judge } }
`;

function problemsOf(text: string, source = 'teams/review-desk.yaml'): TeamProblem[] {
  const parsed = parseTeamText(text, source, env);
  if (parsed.ok) throw new Error('expected the document to be refused');
  return parsed.problems;
}

describe('team documents', () => {
  it('a valid document loads, with its output schema compiled', () => {
    const parsed = parseTeamText(valid, 'review-desk.yaml', env);
    if (!parsed.ok) throw new Error(parsed.problems.map(problemSentence).join(' '));
    const schema = parsed.team.outputSchema;
    expect(schema?.check({ verdict: 'approve', findings: [{ file: 'a.ts', notes: ['ok'] }] })).toMatchObject({
      ok: true,
    });
    const refused = schema?.check({ verdict: 'maybe', findings: [{ file: 'a.ts', notes: [1] }] });
    expect(refused).toMatchObject({ ok: false });
    expect(refused?.ok === false && refused.problem).toMatch(
      /\/verdict: must be equal to one of the allowed values/,
    );
    expect(refused?.ok === false && refused.problem).toMatch(/\/findings\/0\/notes\/0: must be string/);
  });

  it.each([
    [
      'an unknown agent in a wiring',
      valid.replace('order: [reader, critic, judge]', 'order: [reader, critc, judge]'),
      'teams/review-desk.yaml, line 29, patterns.sequential.order[1]: unknown agent "critc".',
    ],
    [
      'an invalid JSON Schema',
      valid.replace('verdict: { type: string, enum', 'verdict: { type: strin, enum'),
      'teams/review-desk.yaml, line 7, outputSchema.properties.verdict.type: is not a usable JSON Schema: must be equal to one of the allowed values (array, boolean, integer, null, number, object, string).',
    ],
    [
      'a JSON Schema typo (strict mode)',
      valid.replace('  required: [verdict, findings]', '  requird: [verdict, findings]'),
      'teams/review-desk.yaml, line 16, outputSchema.requird: is not a usable JSON Schema: unknown keyword: "requird".',
    ],
    [
      'a duplicate agent name',
      valid.replace('  - name: judge', '  - name: reader'),
      'teams/review-desk.yaml, line 25, agents[2].name: duplicate agent name "reader".',
    ],
    [
      'an unknown pattern',
      valid.replace('  sequential: { order', '  sequental: { order'),
      'teams/review-desk.yaml, line 29, patterns.sequental: unknown pattern "sequental"; the patterns are sequential, concurrent, handoff, magentic, group-chat, map.',
    ],
    [
      'a handoff to nobody',
      valid.replace('handoffs: [reader]', 'handoffs: [reviewer]'),
      'teams/review-desk.yaml, line 24, agents[1].handoffs[0]: unknown agent "reviewer".',
    ],
    [
      'a missing field',
      valid.replace('    instructions: Decide whether to approve.\n', ''),
      'teams/review-desk.yaml, line 25, agents[2].instructions: is required.',
    ],
    [
      'an unknown field',
      valid.replace(
        '    description: Finds problems.',
        '    description: Finds problems.\n    temperature: 0',
      ),
      'teams/review-desk.yaml, line 23, agents[1].temperature: unknown field "temperature".',
    ],
    [
      'a YAML syntax error',
      valid.replace('  - name: critic', ' - name: critic'),
      /^teams\/review-desk\.yaml, line \d+: .+\.$/,
    ],
    [
      'a tag asking for code',
      valid.replace('description: Reviews a pull request.', 'description: !!js/function "function () {}"'),
      'teams/review-desk.yaml, line 3: Unresolved tag: tag:yaml.org,2002:js/function.',
    ],
    [
      'a provider that is not configured',
      valid.replace(
        '    instructions: Decide whether to approve.',
        '    instructions: Decide.\n    model: { provider: azure-openai }',
      ),
      'teams/review-desk.yaml, line 28, agents[2].model.provider: names provider azure-openai, which is not configured (The model provider azure-openai (chosen by an agent or a run) needs AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_DEPLOYMENT).',
    ],
    [
      'a model outside the team’s own list',
      valid.replace(
        'agents:\n',
        'models:\n  - { provider: openai-compatible, deployment: llama }\nagents:\n',
      ),
      "teams/review-desk.yaml, line 20, agents[0].model: uses simulated/simulated, which is not in the team's models (openai-compatible/llama).",
    ],
  ])('refuses %s with the file, the line, the path and a sentence', (_what, text, expected) => {
    const [first] = problemsOf(text);
    if (!first) throw new Error('no problem reported');
    if (typeof expected === 'string') expect(problemSentence(first)).toBe(expected);
    else expect(problemSentence(first)).toMatch(expected);
  });

  it('bounds sizes: agents per team, instruction length and output schema depth', () => {
    const agents = Array.from(
      { length: 33 },
      (_, i) => `  - { name: a${i}, description: d, instructions: i }`,
    ).join('\n');
    const many = `name: many\ndescription: d\nagents:\n${agents}\npatterns:\n  sequential: { order: [a0] }\n`;
    expect(problemSentence(problemsOf(many, 'many.yaml')[0]!)).toBe(
      'many.yaml, line 4, agents: Too big: expected array to have <=32 items.',
    );
    const long = valid.replace('Decide whether to approve.', 'x'.repeat(32_001));
    expect(problemSentence(problemsOf(long)[0]!)).toBe(
      'teams/review-desk.yaml, line 27, agents[2].instructions: Too big: expected string to have <=32000 characters.',
    );
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 40; i++) deep = { type: 'array', items: deep };
    const nested = valid.replace(/outputSchema:\n(?: {2}.*\n)+/, `outputSchema: ${JSON.stringify(deep)}\n`);
    expect(problemSentence(problemsOf(nested)[0]!)).toBe(
      'teams/review-desk.yaml, line 4, outputSchema: nests deeper than 32 levels.',
    );
  });

  it('refuses a document larger than a megabyte before parsing it', () => {
    const huge = `${valid}# ${'x'.repeat(1_048_576)}\n`;
    expect(problemsOf(huge)[0]?.message).toMatch(/^is \d+ bytes; a team document may have at most 1048576$/);
  });

  it('reads JSON files with the same line numbers and messages', () => {
    const doc = parse(valid) as Record<string, unknown>;
    (doc.patterns as { sequential: { order: string[] } }).sequential.order[2] = 'jugde';
    const text = JSON.stringify({ $schema: './team.schema.json', ...doc }, null, 2);
    const [first] = problemsOf(text, 'review-desk.json');
    expect(first && problemSentence(first)).toMatch(
      /^review-desk\.json, line \d+, patterns\.sequential\.order\[2\]: unknown agent "jugde"\.$/,
    );
    expect(text.split('\n')[(first?.line ?? 0) - 1]).toContain('"jugde"');
  });

  it('loads every team file of a folder, skips *.schema.json and refuses a team name used twice', () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-teams-'));
    writeFileSync(join(dir, 'a.yaml'), valid);
    writeFileSync(join(dir, 'b.yml'), valid);
    writeFileSync(join(dir, 'team.schema.json'), '{"not": "a team"}');
    writeFileSync(join(dir, 'notes.txt'), 'not a team file');
    const { teams, problems } = loadTeamFiles(dir, env);
    expect(teams.map((t) => t.team.name)).toEqual(['review-desk']);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toMatch(/^names team "review-desk", which .*a\.yaml defines already$/);
  });

  it('refuses a variant overlay naming an unknown agent, and a variant called base', () => {
    const overlay = `${valid}variants:\n  concise:\n    agents:\n      jduge: { instructions: Be brief. }\n`;
    expect(problemSentence(problemsOf(overlay)[0]!)).toBe(
      'teams/review-desk.yaml, line 34, variants.concise.agents.jduge: unknown agent "jduge".',
    );
    const base = `${valid}variants:\n  base:\n    agents:\n      judge: { instructions: Be brief. }\n`;
    expect(problemsOf(base)[0]?.message).toBe('"base" names the team without a variant');
  });
});

describe('the shipped teams', () => {
  const files = ['news-desk.yaml', 'support-desk.yaml'];

  it('load from teams/*.yaml, each pointing editors at team.schema.json', () => {
    expect([...shippedTeams().keys()]).toEqual(['news-desk', 'support-desk']);
    for (const file of files) {
      expect(readFileSync(join(teamsDir, file), 'utf8').split('\n')[0]).toBe(
        '# yaml-language-server: $schema=./team.schema.json',
      );
    }
  });

  it('teams/team.schema.json is the one `npm run teams:schema` writes (run it after changing the team schema)', () => {
    const checkedIn: unknown = JSON.parse(readFileSync(join(teamsDir, 'team.schema.json'), 'utf8'));
    expect(checkedIn).toEqual(teamFileJsonSchema());
  });

  it('satisfy team.schema.json, as an editor would check them', () => {
    const validate = new Ajv({ strict: false, allErrors: true }).compile(teamFileJsonSchema());
    for (const file of files) {
      const ok = validate(parse(readFileSync(join(teamsDir, file), 'utf8')));
      expect(validate.errors ?? [], file).toEqual([]);
      expect(ok).toBe(true);
    }
    expect(validate(parse(valid))).toBe(true);
    expect(validate({ ...(parse(valid) as object), agents: [{ name: 'x' }] })).toBe(false);
  });

  it('declare the output shapes the evals score in zod', () => {
    const teams = shippedTeams();
    const jsonOf = (schema: z.ZodType) => {
      const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: 'draft-07' }) as Record<
        string,
        unknown
      >;
      return rest;
    };
    expect(teams.get('news-desk')?.outputSchema?.jsonSchema).toEqual(jsonOf(newsDeskOutputSchema));
    expect(teams.get('support-desk')?.outputSchema?.jsonSchema).toEqual(jsonOf(supportDeskOutputSchema));
  });
});

describe('docs/teams.md', () => {
  it('its complete example is a valid team', () => {
    const doc = readFileSync(new URL('../../docs/teams.md', import.meta.url), 'utf8');
    const example = /## A complete example[\s\S]*?```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    if (!example) throw new Error('no example in docs/teams.md');
    const parsed = parseTeamText(example, 'docs/teams.md', env);
    expect(parsed.ok ? [] : parsed.problems.map(problemSentence)).toEqual([]);
    expect(parsed.ok && Object.keys(parsed.team.patterns)).toEqual(['sequential', 'concurrent', 'handoff']);
  });
});
