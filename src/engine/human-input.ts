import { randomUUID } from 'node:crypto';
import { RunWaitingError } from '../core/errors.js';
import type { RunEventInput } from '../core/events.js';
import type { InputPort } from '../core/ports.js';
import type { HumanAnswer, PendingInput } from '../core/run.js';
import type { RunJournal } from '../runs/journal.js';
import type { RunSignal } from './run-signal.js';

/** What the run asks a person: an approval of a tool call, or a free-text question. */
export interface HumanAsk {
  kind: PendingInput['kind'];
  agent: string;
  tool?: string;
  arguments?: unknown;
  question?: string;
  /** After this long the request expires with the default decision (reject); undefined: it does not expire. */
  timeoutMs?: number | undefined;
}

export interface HumanScope {
  runId: string;
  journal: RunJournal;
  run: RunSignal;
  now(): number;
  emit(event: RunEventInput): Promise<void>;
  /** Closes expired requests atomically with answers arriving over the API; without it (in-process), the journal. */
  inputs: InputPort | undefined;
  /** The requests this execution reached without an answer (several when concurrent branches ask). */
  waiting: PendingInput[];
}

/**
 * A run waiting without an expiry or a deadline still looks again once a day, so a lost wake-up costs at most
 * that (the answer is journaled either way).
 */
const LONGEST_WAIT_MS = 24 * 3600 * 1000;

/** When a waiting run must run again without an answer: its earliest expiry, its deadline, or a day from now. */
export function wakeAt(waiting: readonly PendingInput[], run: RunSignal, now: number): number {
  const expiries = waiting.flatMap((r) => (r.expiresAt ? [Date.parse(r.expiresAt)] : []));
  return Math.min(
    now + LONGEST_WAIT_MS,
    ...expiries,
    ...(run.deadlineAt !== undefined ? [run.deadlineAt] : []),
  );
}

/**
 * A request for a person's input as a journaled step. The request itself is journaled under `<key>/request` the
 * first time (its id, its creation and expiry times are fixed then), and its answer under `key` — written by
 * the API when a person answers, or by the run when the request has expired. Without an answer the execution
 * stops with `RunWaitingError`: the worker records the run `waiting` and lets go of its job, and the run resumes
 * by replaying its journal once an answer arrives.
 */
export function humanStep(scope: HumanScope): (key: string, ask: HumanAsk) => Promise<HumanAnswer> {
  return async (key, ask) => {
    const answered = scope.journal.get(key);
    if (answered?.kind === 'step') return answered.value as HumanAnswer;
    scope.run.boundary();
    const request = await journaledRequest(scope, key, ask);
    if (request.expiresAt !== undefined && Date.parse(request.expiresAt) <= scope.now()) {
      return scope.inputs ? scope.inputs.expire(scope.runId, request) : expireHere(scope, request);
    }
    scope.waiting.push(request);
    throw new RunWaitingError([...scope.waiting], wakeAt(scope.waiting, scope.run, scope.now()));
  };
}

async function journaledRequest(scope: HumanScope, key: string, ask: HumanAsk): Promise<PendingInput> {
  const requestKey = `${key}/request`;
  const recorded = scope.journal.get(requestKey);
  if (recorded?.kind === 'step') return recorded.value as PendingInput;
  const now = scope.now();
  const request: PendingInput = {
    id: randomUUID(),
    kind: ask.kind,
    agent: ask.agent,
    step: key,
    ...(ask.tool !== undefined ? { tool: ask.tool } : {}),
    ...(ask.arguments !== undefined ? { arguments: ask.arguments } : {}),
    ...(ask.question !== undefined ? { question: ask.question } : {}),
    createdAt: new Date(now).toISOString(),
    ...(ask.timeoutMs !== undefined ? { expiresAt: new Date(now + ask.timeoutMs).toISOString() } : {}),
  };
  await scope.journal.put(requestKey, { kind: 'step', value: request, completedAt: request.createdAt });
  return request;
}

/** An in-process run (tests, evals) closes an expired request in its own journal. */
async function expireHere(scope: HumanScope, request: PendingInput): Promise<HumanAnswer> {
  const answer = expiredAnswer(request, scope.now());
  await scope.journal.put(request.step, { kind: 'step', value: answer, completedAt: answer.at });
  await scope.emit({ type: 'input.expired', requestId: request.id, step: request.step, decision: 'reject' });
  return answer;
}

/** The documented default of an expired request: rejected (a question goes unanswered). */
export function expiredAnswer(request: PendingInput, now: number): HumanAnswer {
  return {
    requestId: request.id,
    ...(request.kind === 'approval' ? { decision: 'reject' as const } : {}),
    at: new Date(now).toISOString(),
    expired: true,
  };
}
