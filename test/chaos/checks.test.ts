import { describe, expect, it } from 'vitest';
import {
  analyse,
  type EventLite,
  type Evidence,
  type ModelRequest,
  passed,
} from '../../scripts/chaos/checks.js';
import { type RunLookup, runSpecs, type Submission } from '../../scripts/chaos/load.js';
import type { StepRecord } from '../../src/core/run.js';
import type { RunRecord } from '../../src/runs/schema.js';
import { shippedTeams } from '../../src/teams/files.js';

const catalog = shippedTeams();

/** The chaos check's verdicts on hand-made evidence: each finding it must (and must not) report. */

const SESSION = 'abc123';
const specs = runSpecs(3, SESSION);
const team = catalog.get('news-desk');
if (!team) throw new Error('news-desk is missing from the catalog');
const instructions = new Map(team.agents.map((a) => [a.name, a.instructions]));
const agentsByInstructions = new Map(team.agents.map((a) => [a.instructions, a.name]));
const T0 = Date.parse('2026-01-01T00:00:00.000Z');

function step(agent: string, startMs: number, durationMs: number, attempts = 1): StepRecord {
  return {
    key: `seq/0/agent:${agent}`,
    agent,
    status: 'succeeded',
    attempts,
    startedAt: new Date(startMs).toISOString(),
    durationMs,
    usage: { inputTokens: 1, outputTokens: 1 },
  };
}

function record(id: string, index: number, status: RunRecord['status'], steps: StepRecord[]): RunRecord {
  return {
    id,
    status,
    team: 'news-desk',
    pattern: 'sequential',
    input: specs[index]?.input ?? '',
    options: {},
    metadata: { chaosIndex: String(index) },
    usage: { inputTokens: 0, outputTokens: 0, modelCalls: 0 },
    steps,
    attempt: 1,
    definitionVersion: 'v',
    createdAt: new Date(T0).toISOString(),
  };
}

function call(index: number, agent: string, atMs: number, cutOff = false): ModelRequest {
  return {
    receivedAt: atMs,
    clientClosed: cutOff,
    status: 200,
    body: {
      messages: [
        { role: 'system', content: instructions.get(agent) },
        { role: 'user', content: `# Task\n${specs[index]?.input}` },
      ],
    },
  };
}

function accepted(index: number, runId: string): Submission {
  const spec = specs[index];
  if (!spec) throw new Error(`no spec ${index}`);
  return { spec, attempts: [{ outcome: 202, runId }], runId };
}

function evidence(parts: Partial<Evidence> & Pick<Evidence, 'submissions'>): Evidence {
  const lookups = new Map<string, RunLookup>();
  for (const r of parts.listed ?? []) lookups.set(r.id, { found: true, record: r });
  return {
    session: SESSION,
    specs,
    replays: new Map(),
    lookups,
    listed: [],
    events: new Map(),
    jobs: new Map(),
    modelRequests: [],
    agentsByInstructions,
    ...parts,
  };
}

describe('chaos checks', () => {
  it('passes a clean run: one call per step, before the step was journaled', () => {
    const run = record('r0', 0, 'succeeded', [step('summarizer', T0, 500)]);
    const f = analyse(
      evidence({
        submissions: [accepted(0, 'r0')],
        listed: [run],
        modelRequests: [call(0, 'summarizer', T0 + 50)],
      }),
    );
    expect(f.terminal.succeeded).toBe(1);
    expect(f.modelCalls).toMatchObject({ attributed: 1, unattributed: 0, inFlightResent: 0 });
    expect(f.modelCalls.journaledRepeated).toEqual([]);
    expect(passed(f)).toBe(true);
  });

  it('counts a call arriving after its step was journaled as repeated, one cut off before it as re-sent', () => {
    // Attempt 1 on a worker that died mid-call (cut off), attempt 2 journaled the step, attempt 3 called again.
    const run = record('r0', 0, 'succeeded', [step('summarizer', T0 + 1_000, 500)]);
    const f = analyse(
      evidence({
        submissions: [accepted(0, 'r0')],
        listed: [run],
        modelRequests: [
          call(0, 'summarizer', T0 + 100, true),
          call(0, 'summarizer', T0 + 1_050),
          call(0, 'summarizer', T0 + 2_000),
        ],
      }),
    );
    expect(f.modelCalls.inFlightResent).toBe(1);
    expect(f.modelCalls.cutOff).toBe(1);
    expect(f.modelCalls.journaledRepeated).toMatchObject([
      { index: 0, runId: 'r0', agent: 'summarizer', lateByMs: 500 },
    ]);
    expect(passed(f)).toBe(false);
  });

  it('takes the first finish event as the journaling time when the record shows a later execution', () => {
    // The journal entry was overwritten by a second execution; its first agent.completed event remains.
    const run = record('r0', 0, 'succeeded', [step('summarizer', T0 + 3_000, 500)]);
    const events: EventLite[] = [
      { id: '1-0', type: 'agent.completed', at: new Date(T0 + 600).toISOString(), step: run.steps[0]?.key },
      { id: '2-0', type: 'agent.completed', at: new Date(T0 + 3_600).toISOString(), step: run.steps[0]?.key },
      { id: '3-0', type: 'run.completed', at: new Date(T0 + 3_700).toISOString() },
    ];
    const f = analyse(
      evidence({
        submissions: [accepted(0, 'r0')],
        listed: [run],
        events: new Map([['r0', events]]),
        modelRequests: [call(0, 'summarizer', T0 + 100), call(0, 'summarizer', T0 + 3_050)],
      }),
    );
    expect(f.modelCalls.journaledRepeated).toHaveLength(1);
    expect(f.stepsFinishedTwice).toEqual([{ index: 0, runId: 'r0', step: run.steps[0]?.key, times: 2 }]);
  });

  it('explains extra calls of a step by its own retries first', () => {
    const run = record('r0', 0, 'succeeded', [step('summarizer', T0, 2_000, 2)]);
    const f = analyse(
      evidence({
        submissions: [accepted(0, 'r0')],
        listed: [run],
        modelRequests: [call(0, 'summarizer', T0 + 10), call(0, 'summarizer', T0 + 1_010)],
      }),
    );
    expect(f.modelCalls).toMatchObject({ retriedWithinStep: 1, inFlightResent: 0 });
  });

  it('reports lost, stuck and duplicated runs with their ids', () => {
    const stuck = record('r1', 1, 'running', []);
    const twice = record('r2', 2, 'failed', []);
    twice.error = { code: 'RUN_ABANDONED', message: 'x' };
    const extra = record('r2b', 2, 'queued', []);
    const e = evidence({
      submissions: [accepted(0, 'r0'), accepted(1, 'r1'), accepted(2, 'r2')],
      listed: [stuck, twice, extra],
      jobs: new Map([['r1', { state: 'failed', attemptsMade: 0, stalledCounter: 6 }]]),
      events: new Map([
        [
          'r2',
          [
            { id: '1-0', type: 'run.failed', at: '' },
            { id: '2-0', type: 'run.failed', at: '' },
          ],
        ],
      ]),
    });
    const f = analyse({ ...e, lookups: new Map([...e.lookups, ['r0', { found: false, status: 404 }]]) });
    expect(f.lost).toEqual([{ index: 0, runId: 'r0', reason: 'GET /v1/runs/:id answered 404' }]);
    expect(f.stuck).toMatchObject([{ index: 1, runId: 'r1', status: 'running', job: { stalledCounter: 6 } }]);
    expect(f.failureCodes).toEqual({ RUN_ABANDONED: ['r2'] });
    expect(f.duplicated).toHaveLength(1);
    expect(f.duplicated[0]).toMatchObject({ index: 2, runIds: expect.arrayContaining(['r2', 'r2b']) });
    expect(f.duplicated[0]?.reasons).toHaveLength(2);
    expect(passed(f)).toBe(false);
  });
});
