import type { StepRecord } from '../../src/core/run.js';
import type { RunRecord } from '../../src/runs/schema.js';
import { type RunLookup, type RunSpec, runIndexIn, type Submission } from './load.js';

/**
 * The checks of the chaos check, as a pure function of what was observed: the submissions, the run records, the
 * run list, every run's event stream, the queue's job states and the model server's request log.
 */

const TERMINAL = ['succeeded', 'failed', 'cancelled'] as const;
const TERMINAL_EVENTS = new Set(['run.completed', 'run.failed', 'run.cancelled']);
const STEP_DONE_EVENTS = new Set(['agent.completed', 'agent.failed']);
/**
 * The model server stamps arrivals with its own clock and the worker stamps steps with another process's; on one
 * machine they agree to well under this. A step's own call arrives a whole model latency before it completes.
 */
const CLOCK_TOLERANCE_MS = 5;

export interface EventLite {
  id: string;
  type: string;
  at: string;
  step?: string;
  agent?: string;
}

export interface JobInfo {
  state: string;
  attemptsMade: number;
  stalledCounter: number;
  failedReason?: string;
}

/** The fields of the model server's request record the checks read. */
export interface ModelRequest {
  receivedAt: number;
  clientClosed: boolean;
  status?: number;
  body: unknown;
}

export interface Evidence {
  session: string;
  specs: readonly RunSpec[];
  submissions: readonly Submission[];
  /** The same POST repeated after the chaos, by run index. */
  replays: ReadonlyMap<number, { status: number | string; runId?: string }>;
  /** GET /v1/runs/:id of every run id seen (accepted or listed). */
  lookups: ReadonlyMap<string, RunLookup>;
  /** GET /v1/runs, all pages; undefined when the list could not be read. */
  listed: readonly RunRecord[] | undefined;
  /** Each run's event stream, read from Redis (the SSE endpoint stops at the first terminal event). */
  events: ReadonlyMap<string, readonly EventLite[]>;
  jobs: ReadonlyMap<string, JobInfo>;
  modelRequests: readonly ModelRequest[];
  /** Agent instructions (the system message of its calls) → agent name. */
  agentsByInstructions: ReadonlyMap<string, string>;
}

export interface RunRef {
  index: number;
  runId?: string;
}

export interface RepeatedCall extends RunRef {
  agent: string;
  step: string;
  requestAt: string;
  journaledAt: string;
  lateByMs: number;
  /** The repeated request itself was cut off (its worker died or aborted it). */
  cutOff: boolean;
}

export interface ResentGroup extends RunRef {
  agent: string;
  step?: string;
  journaledAt?: string;
  calls: { at: string; status?: number; cutOff: boolean; afterJournal: boolean }[];
}

export interface Findings {
  submitted: number;
  accepted: number;
  notAccepted: (RunRef & { reason: string })[];
  submitRetries: number;
  terminal: Record<(typeof TERMINAL)[number], number>;
  /** Error codes of failed and cancelled runs, with the runs. */
  failureCodes: Record<string, string[]>;
  lost: (RunRef & { reason: string })[];
  stuck: (RunRef & { status: string; attempt: number; steps: number; job?: JobInfo })[];
  duplicated: (RunRef & { reasons: string[]; runIds: string[] })[];
  modelCalls: {
    total: number;
    attributed: number;
    unattributed: number;
    /** Requests the client cut off before the answer was complete (killed worker, abort). */
    cutOff: number;
    /** A journaled step's call arriving again after the step was journaled: must be 0. */
    journaledRepeated: RepeatedCall[];
    /** A call sent again because the first was in flight (never journaled) when its worker died. */
    inFlightResent: number;
    /** Extra calls of one step explained by the step's own retries (`attempts` > 1). */
    retriedWithinStep: number;
    /** Every (run, agent, prompt) with more than one call: the calls' timing against the journal. */
    resentGroups: ResentGroup[];
  };
  /** Steps with two `agent.completed`/`agent.failed` events: executed twice by overlapping attempts. */
  stepsFinishedTwice: (RunRef & { step: string; times: number })[];
  /** A repeated POST with the same key after the chaos did not answer the first run with 200. */
  replayAnomalies: (RunRef & { status: number | string; answeredRunId?: string })[];
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p) =>
        typeof p === 'object' && p !== null && typeof (p as { text?: unknown }).text === 'string'
          ? (p as { text: string }).text
          : '',
      )
      .join('');
  }
  return '';
}

interface Message {
  role?: string;
  content?: unknown;
}

/** When a step was journaled: its first finish event (written right after the journal entry), else the record's timing. */
function journaledAt(step: StepRecord, events: readonly EventLite[]): number {
  const finishes = events
    .filter((e) => STEP_DONE_EVENTS.has(e.type) && e.step === step.key)
    .map((e) => Date.parse(e.at));
  if (finishes.length > 0) return Math.min(...finishes);
  return Date.parse(step.startedAt) + step.durationMs;
}

function indexOfRecord(record: RunRecord, session: string): number | undefined {
  const fromMetadata = record.metadata?.chaosIndex;
  if (fromMetadata !== undefined) return Number(fromMetadata);
  return typeof record.input === 'string' ? runIndexIn(record.input, session) : undefined;
}

export function analyse(e: Evidence): Findings {
  const findings: Findings = {
    submitted: e.submissions.length,
    accepted: 0,
    notAccepted: [],
    submitRetries: 0,
    terminal: { succeeded: 0, failed: 0, cancelled: 0 },
    failureCodes: {},
    lost: [],
    stuck: [],
    duplicated: [],
    modelCalls: {
      total: e.modelRequests.length,
      attributed: 0,
      unattributed: 0,
      cutOff: 0,
      journaledRepeated: [],
      inFlightResent: 0,
      retriedWithinStep: 0,
      resentGroups: [],
    },
    stepsFinishedTwice: [],
    replayAnomalies: [],
  };

  // Runs the list shows, by index: more than one for an index is a duplicate.
  const listedByIndex = new Map<number, Set<string>>();
  for (const record of e.listed ?? []) {
    const index = indexOfRecord(record, e.session);
    if (index === undefined) continue;
    const ids = listedByIndex.get(index) ?? new Set<string>();
    ids.add(record.id);
    listedByIndex.set(index, ids);
  }
  const listedIds = new Set((e.listed ?? []).map((r) => r.id));

  const duplicates = new Map<number, { reasons: Set<string>; runIds: Set<string> }>();
  const duplicate = (index: number, reason: string, ids: Iterable<string>) => {
    const entry = duplicates.get(index) ?? { reasons: new Set<string>(), runIds: new Set<string>() };
    entry.reasons.add(reason);
    for (const id of ids) entry.runIds.add(id);
    duplicates.set(index, entry);
  };

  for (const s of e.submissions) {
    const index = s.spec.index;
    findings.submitRetries += Math.max(0, s.attempts.length - 1);
    const ids = new Set(s.attempts.flatMap((a) => (a.runId ? [a.runId] : [])));
    if (!s.runId) {
      findings.notAccepted.push({ index, reason: s.rejected ?? 'unknown' });
      continue;
    }
    findings.accepted += 1;
    const runId = s.runId;
    const replay = e.replays.get(index);
    if (replay?.runId) ids.add(replay.runId);
    if (replay && (replay.status !== 200 || replay.runId !== runId)) {
      findings.replayAnomalies.push({
        index,
        runId,
        status: replay.status,
        ...(replay.runId ? { answeredRunId: replay.runId } : {}),
      });
    }
    for (const id of listedByIndex.get(index) ?? []) ids.add(id);
    if (ids.size > 1) duplicate(index, 'one idempotency key, several runs', ids);

    const lookup = e.lookups.get(runId) ?? { found: false, status: 'nothing' };
    if (!lookup.found) {
      findings.lost.push({ index, runId, reason: `GET /v1/runs/:id answered ${lookup.status}` });
      continue;
    }
    if (e.listed && !listedIds.has(runId)) {
      findings.lost.push({ index, runId, reason: 'missing from GET /v1/runs' });
    }
    const record = lookup.record;
    if ((TERMINAL as readonly string[]).includes(record.status)) {
      findings.terminal[record.status as (typeof TERMINAL)[number]] += 1;
      if (record.status !== 'succeeded') {
        const code = record.error?.code ?? `${record.status} (no error code)`;
        const list = findings.failureCodes[code] ?? [];
        list.push(runId);
        findings.failureCodes[code] = list;
      }
    } else {
      const job = e.jobs.get(runId);
      findings.stuck.push({
        index,
        runId,
        status: record.status,
        attempt: record.attempt,
        steps: record.steps.length,
        ...(job ? { job } : {}),
      });
    }
  }

  // Event streams: one terminal event per run, and each step finished once.
  const indexOfRun = new Map<string, number>();
  for (const s of e.submissions) if (s.runId) indexOfRun.set(s.runId, s.spec.index);
  for (const [index, ids] of listedByIndex) for (const id of ids) indexOfRun.set(id, index);
  for (const [runId, events] of e.events) {
    const index = indexOfRun.get(runId) ?? -1;
    const terminal = events.filter((ev) => TERMINAL_EVENTS.has(ev.type));
    if (terminal.length > 1) {
      duplicate(index, `${terminal.length} terminal events (${terminal.map((t) => t.type).join(', ')})`, [
        runId,
      ]);
    }
    const finishes = new Map<string, number>();
    for (const ev of events) {
      if (STEP_DONE_EVENTS.has(ev.type) && ev.step) finishes.set(ev.step, (finishes.get(ev.step) ?? 0) + 1);
    }
    for (const [step, times] of finishes) {
      if (times > 1) findings.stepsFinishedTwice.push({ index, runId, step, times });
    }
  }
  findings.duplicated = [...duplicates].map(([index, d]) => ({
    index,
    reasons: [...d.reasons],
    runIds: [...d.runIds],
  }));

  analyseModelCalls(e, findings);
  return findings;
}

/**
 * Groups the model requests by (run, agent, prompt) and compares each with the moment its step was journaled.
 * A request after that moment repeats a journaled call; extra requests before it are retries of the step or
 * calls re-sent after a worker died with the first one in flight.
 */
function analyseModelCalls(e: Evidence, findings: Findings): void {
  const calls = findings.modelCalls;
  const groups = new Map<string, { index: number; agent: string; requests: ModelRequest[] }>();
  for (const r of e.modelRequests) {
    if (r.clientClosed) calls.cutOff += 1;
    const messages = ((r.body as { messages?: Message[] } | undefined)?.messages ?? []) as Message[];
    const system = messages.find((m) => m.role === 'system');
    const prompt = JSON.stringify(messages.filter((m) => m.role !== 'system'));
    const agent = system ? e.agentsByInstructions.get(textOf(system.content)) : undefined;
    const index = runIndexIn(prompt, e.session);
    if (agent === undefined || index === undefined) {
      calls.unattributed += 1;
      continue;
    }
    calls.attributed += 1;
    const key = `${index}\u0000${agent}\u0000${prompt}`;
    const group = groups.get(key) ?? { index, agent, requests: [] };
    group.requests.push(r);
    groups.set(key, group);
  }

  const runIdOf = new Map<number, string>();
  for (const s of e.submissions) if (s.runId) runIdOf.set(s.spec.index, s.runId);

  for (const group of groups.values()) {
    const requests = [...group.requests].sort((a, b) => a.receivedAt - b.receivedAt);
    const runId = runIdOf.get(group.index);
    const lookup = runId ? e.lookups.get(runId) : undefined;
    const record = lookup?.found ? lookup.record : undefined;
    const events = (runId ? e.events.get(runId) : undefined) ?? [];
    const candidates = (record?.steps ?? []).filter((s) => s.agent === group.agent);
    const first = requests[0]?.receivedAt ?? 0;
    // One step per agent in the patterns the check submits; otherwise the step whose own call is in the group.
    const step =
      candidates.length <= 1
        ? candidates[0]
        : (candidates.find((s) =>
            requests.some(
              (r) =>
                r.receivedAt >= Date.parse(s.startedAt) - CLOCK_TOLERANCE_MS &&
                r.receivedAt <= journaledAt(s, events) + CLOCK_TOLERANCE_MS,
            ),
          ) ?? candidates.find((s) => journaledAt(s, events) >= first));
    const journaled = step ? journaledAt(step, events) : Number.POSITIVE_INFINITY;
    let beforeJournal = 0;
    for (const r of requests) {
      if (step && r.receivedAt > journaled + CLOCK_TOLERANCE_MS) {
        calls.journaledRepeated.push({
          index: group.index,
          ...(runId ? { runId } : {}),
          agent: group.agent,
          step: step.key,
          requestAt: new Date(r.receivedAt).toISOString(),
          journaledAt: new Date(journaled).toISOString(),
          lateByMs: Math.round(r.receivedAt - journaled),
          cutOff: r.clientClosed,
        });
      } else {
        beforeJournal += 1;
      }
    }
    if (requests.length > 1) {
      calls.resentGroups.push({
        index: group.index,
        ...(runId ? { runId } : {}),
        agent: group.agent,
        ...(step ? { step: step.key, journaledAt: new Date(journaled).toISOString() } : {}),
        calls: requests.map((r) => ({
          at: new Date(r.receivedAt).toISOString(),
          ...(r.status !== undefined ? { status: r.status } : {}),
          cutOff: r.clientClosed,
          afterJournal: step !== undefined && r.receivedAt > journaled + CLOCK_TOLERANCE_MS,
        })),
      });
    }
    const extra = Math.max(0, beforeJournal - 1);
    const retries = step ? Math.min(extra, Math.max(0, step.attempts - 1)) : 0;
    calls.retriedWithinStep += retries;
    calls.inFlightResent += extra - retries;
  }
}

/** The verdict: lost, stuck, duplicated and repeated journaled calls must all be zero. */
export function passed(f: Findings): boolean {
  return (
    f.lost.length === 0 &&
    f.stuck.length === 0 &&
    f.duplicated.length === 0 &&
    f.modelCalls.journaledRepeated.length === 0
  );
}
