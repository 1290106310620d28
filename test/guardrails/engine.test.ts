import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/core/events.js';
import { Guardrails } from '../../src/guardrails/index.js';
import type { RunRequest } from '../../src/runs/schema.js';
import { offeredTransfers, transferTo } from '../../src/simulation/handoff-skills.js';
import type { Skill } from '../../src/simulation/skill.js';
import { shippedTeams } from '../../src/teams/files.js';
import { type TeamDefinition, teamDefinitionSchema } from '../../src/teams/schema.js';
import { createTestEngine } from '../support/engine.js';

const EMAIL = 'jane.doe@contoso-mail.example';
const CARD = '4111 1111 1111 1111';
/**
 * The card in any of its spellings. Not the bare '4111': the journal's `order` values are times with a fraction,
 * and one read `…084.4111` (a CI run failed on it).
 */
const CARD_ANY_SPELLING = /4111[ -]?1111/;
const TICKET = `I was charged twice this month. My card is ${CARD}; please refund it and confirm to ${EMAIL}.`;

const shipped = shippedTeams();
const supportDesk = shipped.get('support-desk') as TeamDefinition;

/** support-desk with its guardrails replaced. */
function withGuardrails(
  guardrails: unknown,
  extraAgents: unknown[] = [],
): ReadonlyMap<string, TeamDefinition> {
  const { outputSchema, ...rest } = supportDesk;
  const team = teamDefinitionSchema.parse({
    ...rest,
    outputSchema: outputSchema?.jsonSchema,
    agents: [
      ...supportDesk.agents.map(({ outputSchema: schema, ...a }) => ({
        ...a,
        ...(schema ? { outputSchema: schema.jsonSchema } : {}),
      })),
      ...extraAgents,
    ],
    guardrails,
  });
  return new Map([['support-desk', team]]);
}

const ticket: RunRequest = {
  team: 'support-desk',
  pattern: 'handoff',
  input: TICKET,
  options: { stream: false },
};

/** A billing specialist that writes back to the address it was given (a placeholder, when redacted). */
const replyToSender: Skill = ({ request }) => {
  if (offeredTransfers(request).includes('billing')) return transferTo('billing', 'A refund.');
  const seen = request.messages.map((m) => m.content).join('\n');
  const address = /<EMAIL_\d+>|[\w.+-]+@[\w.-]+\.[a-z]+/.exec(seen)?.[0] ?? 'you';
  return {
    json: {
      specialist: 'billing',
      category: 'refund',
      reply: `Refund issued; confirmation sent to ${address}.`,
    },
  };
};
const skills = { 'support.triage': replyToSender, 'support.specialist': replyToSender };

const guardrailEvents = (events: readonly RunEvent[]) =>
  events.filter(
    (e): e is Extract<RunEvent, { type: 'guardrail.triggered' }> => e.type === 'guardrail.triggered',
  );

describe('guardrails in the engine', () => {
  it('redact: models see placeholders, the answer gets the values back, events and journal never hold them', async () => {
    const engine = createTestEngine({ skills });
    const out = await engine.run(ticket);

    expect(out.status).toBe('succeeded');
    const sent = JSON.stringify(engine.model.requests.map((r) => r.messages));
    expect(sent).toContain('<EMAIL_1>');
    expect(sent).toContain('<CARD_1>');
    expect(sent).not.toContain(EMAIL);
    expect(sent).not.toMatch(CARD_ANY_SPELLING);
    expect(out.output?.structured).toMatchObject({
      reply: `Refund issued; confirmation sent to ${EMAIL}.`,
    });
    // The record's output is restored; the run's events and journal keep placeholders.
    expect(out.eventOutput?.text).toContain('<EMAIL_1>');
    const events = JSON.stringify(out.events.events);
    const journal = JSON.stringify(out.journal.entries());
    for (const stored of [events, journal]) {
      expect(stored).not.toContain(EMAIL);
      expect(stored).not.toMatch(CARD_ANY_SPELLING);
    }
    const pii = guardrailEvents(out.events.events).filter((e) => e.guardrail === 'pii');
    expect(pii[0]).toMatchObject({
      agent: 'triage',
      stage: 'input',
      outcome: 'transform',
      findings: { email: 1, card: 1 },
    });
  });

  it('without the guardrail the values reach the model (the test above would fail)', async () => {
    const engine = createTestEngine({ skills, teams: withGuardrails({ pii: { mode: 'off' } }) });
    const out = await engine.run(ticket);
    expect(out.status).toBe('succeeded');
    expect(JSON.stringify(engine.model.requests.map((r) => r.messages))).toContain(EMAIL);
    expect(guardrailEvents(out.events.events)).toEqual([]);
  });

  it('block: the ticket is refused with GUARDRAIL_BLOCKED before any model call, naming kinds not values', async () => {
    const engine = createTestEngine({ skills, teams: withGuardrails({ pii: { mode: 'block' } }) });
    const out = await engine.run(ticket);

    expect(out.status).toBe('failed');
    expect(out.error).toMatchObject({
      code: 'GUARDRAIL_BLOCKED',
      details: { guardrail: 'pii', stage: 'input', agent: 'triage', findings: { email: 1, card: 1 } },
    });
    expect(JSON.stringify(out.error)).not.toContain(EMAIL);
    expect(engine.model.requests).toHaveLength(0);
    expect(guardrailEvents(out.events.events)).toEqual([
      expect.objectContaining({ guardrail: 'pii', outcome: 'block', findings: { email: 1, card: 1 } }),
    ]);
  });

  it.each(['concurrent', 'magentic'] as const)(
    'block under %s: the run fails with GUARDRAIL_BLOCKED, no model call',
    async (pattern) => {
      const engine = createTestEngine({ skills, teams: withGuardrails({ pii: { mode: 'block' } }) });
      const out = await engine.run({ ...ticket, pattern });
      expect(out.error?.code).toBe('GUARDRAIL_BLOCKED');
      expect(engine.model.requests).toHaveLength(0);
    },
  );

  it('the operator’s default applies to teams that declare no PII mode', async () => {
    const engine = createTestEngine({ skills, teams: withGuardrails(undefined) });
    engine.deps.guardrails = new Guardrails({ defaultPii: 'block' });
    const out = await engine.run(ticket);
    expect(out.error?.code).toBe('GUARDRAIL_BLOCKED');
    expect(engine.model.requests).toHaveLength(0);
  });

  it('answer rules: a forbidden phrase fails the call (fail) or re-asks once naming the rule (reask)', async () => {
    const failing = createTestEngine({
      skills,
      teams: withGuardrails({
        output: { forbiddenPhrases: ['REFUND ISSUED'], onFail: 'fail', agents: ['billing'] },
      }),
    });
    const failed = await failing.run(ticket);
    expect(failed.error).toMatchObject({
      code: 'GUARDRAIL_BLOCKED',
      details: { guardrail: 'output', stage: 'output', agent: 'billing', reason: 'broke forbiddenPhrases' },
    });
    expect(failing.model.requests.filter((r) => r.agent === 'billing')).toHaveLength(1);

    const reasking = createTestEngine({
      skills,
      teams: withGuardrails({ output: { forbiddenPhrases: ['refund issued'], agents: ['billing'] } }),
    });
    const reasked = await reasking.run(ticket);
    const billing = reasking.model.requests.filter((r) => r.agent === 'billing');
    expect(billing).toHaveLength(2);
    expect(billing[1]?.messages.at(-1)?.content).toContain('answer rule "forbiddenPhrases"');
    // The simulated specialist answers the same again, so the second answer fails too.
    expect(reasked.error?.code).toBe('GUARDRAIL_BLOCKED');
    expect(guardrailEvents(reasked.events.events).map((e) => `${e.guardrail}:${e.outcome}`)).toContain(
      'output:reask',
    );
  });

  it('answer rules: a re-asked agent that keeps the rule the second time passes, with both requests counted', async () => {
    // The simulated billing agent promises a "guaranteed refund" once, until told which rule it broke.
    let careless = true;
    const once: Skill = (input) => {
      const out = replyToSender(input);
      if (!careless || !('json' in out) || !out.json) return out;
      careless = false;
      return { json: { ...(out.json as object), reply: 'A guaranteed refund is on its way.' } };
    };
    const engine = createTestEngine({
      skills: { ...skills, 'support.specialist': once },
      teams: withGuardrails({ output: { forbiddenPhrases: ['guaranteed refund'], agents: ['billing'] } }),
    });
    const out = await engine.run(ticket);
    expect(out.status).toBe('succeeded');
    expect(JSON.stringify(out.output)).not.toContain('guaranteed refund');
    const billing = engine.model.requests.filter((r) => r.agent === 'billing');
    const reasks = billing.filter((r) => r.messages.at(-1)?.content.includes('Answer again'));
    expect(reasks).toHaveLength(1);
    // The re-ask carries the broken answer, then names the rule.
    expect(reasks[0]?.messages.at(-2)?.content).toContain('guaranteed refund');
    const firstBilling = out.steps.find((st) => st.agent === 'billing');
    expect(firstBilling?.attempts).toBe(2);
    expect(out.usage.modelCalls).toBe(engine.model.requests.length);
    expect(guardrailEvents(out.events.events)).toEqual([
      expect.objectContaining({
        guardrail: 'output',
        agent: 'billing',
        outcome: 'reask',
        reason: 'forbiddenPhrases',
      }),
    ]);
  });

  it('redact after a crash: a run replayed from its journal restores the same values', async () => {
    const first = createTestEngine({ skills });
    const done = await first.run(ticket, { runId: 'run-replayed' });
    const replay = createTestEngine({ skills });
    const again = await replay.run(ticket, { runId: 'run-replayed', journal: done.journal, attempt: 2 });
    expect(replay.model.requests).toHaveLength(0);
    expect(again.output).toEqual(done.output);
    expect(JSON.stringify(again.output)).toContain(EMAIL);
  });

  it('answer rules: a maximum length', async () => {
    const engine = createTestEngine({
      skills,
      teams: withGuardrails({ output: { maxChars: 20, onFail: 'fail' } }),
    });
    const out = await engine.run(ticket);
    expect(out.error).toMatchObject({ code: 'GUARDRAIL_BLOCKED', details: { reason: 'broke maxChars' } });
  });

  describe('judge', () => {
    const judgeAgent = {
      name: 'policy-judge',
      description: 'Checks answers against the support policy.',
      instructions: 'You check support replies against a policy.',
      simulation: { skill: 'test.judge' },
    };
    /** A judge that finds a reply non-compliant when it promises anything "within 24 hours". */
    const judgeSkill: Skill = ({ request }) => {
      const answer = /<answer>([\s\S]*)<\/answer>/.exec(request.messages.at(-1)?.content ?? '')?.[1] ?? '';
      const compliant = !/within 24 hours/i.test(answer);
      return { json: { compliant, reason: compliant ? 'keeps the policy' : 'promises a deadline' } };
    };
    const promising: Skill = (input) => {
      const out = replyToSender(input);
      if (!('json' in out) || !out.json) return out;
      const json = out.json as { reply: string };
      return { json: { ...json, reply: `${json.reply} Expect the money within 24 hours.` } };
    };
    const judged = (onFail: 'reask' | 'fail', maxCalls = 20) =>
      withGuardrails(
        {
          pii: { mode: 'redact' },
          output: {
            agents: ['billing'],
            judge: { agent: 'policy-judge', policy: 'Never promise a deadline.', maxCalls },
            onFail,
          },
        },
        [judgeAgent],
      );

    it('an answer the judge finds against the policy fails the call; the judge sees placeholders only', async () => {
      const engine = createTestEngine({
        skills: { ...skills, 'support.specialist': promising, 'test.judge': judgeSkill },
        teams: judged('fail'),
      });
      const out = await engine.run(ticket);
      expect(out.error).toMatchObject({
        code: 'GUARDRAIL_BLOCKED',
        details: { guardrail: 'judge', stage: 'output', agent: 'billing', reason: 'broke policy' },
      });
      const asked = engine.model.requests.filter((r) => r.agent === 'policy-judge');
      expect(asked).toHaveLength(1);
      expect(JSON.stringify(asked[0]?.messages)).toContain('Never promise a deadline.');
      expect(JSON.stringify(asked[0]?.messages)).toContain('<EMAIL_1>');
      expect(JSON.stringify(asked[0]?.messages)).not.toContain(EMAIL);
    });

    it('a compliant answer passes; without the judge the promising answer would go out', async () => {
      const engine = createTestEngine({
        skills: { ...skills, 'test.judge': judgeSkill },
        teams: judged('fail'),
      });
      expect((await engine.run(ticket)).status).toBe('succeeded');
      const unjudged = createTestEngine({
        skills: { ...skills, 'support.specialist': promising },
        teams: withGuardrails({ pii: { mode: 'redact' } }, [judgeAgent]),
      });
      expect((await unjudged.run(ticket)).status).toBe('succeeded');
    });

    it('reask names the policy; a judge out of its own budget blocks', async () => {
      const engine = createTestEngine({
        skills: { ...skills, 'support.specialist': promising, 'test.judge': judgeSkill },
        teams: judged('reask', 1),
      });
      const out = await engine.run(ticket);
      const billing = engine.model.requests.filter((r) => r.agent === 'billing');
      expect(billing).toHaveLength(2);
      expect(billing[1]?.messages.at(-1)?.content).toContain("this team's policy: Never promise a deadline.");
      // One judge call allowed per run: the second answer cannot be judged, so it does not go out.
      expect(engine.model.requests.filter((r) => r.agent === 'policy-judge')).toHaveLength(1);
      expect(out.error).toMatchObject({
        code: 'GUARDRAIL_BLOCKED',
        details: { guardrail: 'judge', reason: 'judge unavailable (BUDGET_EXCEEDED)' },
      });
    });
  });
});
