import type { StepRecord } from '../../core/run.js';
import type { RunRecord } from '../../runs/schema.js';

/**
 * A run as a waterfall: bars for everything that took time (agent calls from the journal and the event stream,
 * and any other `<kind>.<start>` / `<kind>.<end>` event pair such as tool calls or human waits), packed into
 * lanes so calls that overlapped show side by side; points for everything else. Event types this module does not
 * know are kept, never dropped: a new kind of event shows up without a change here.
 */

/** An event as the stream stores it, read without knowing its type's schema. */
export interface LooseEvent {
  type: string;
  at: string;
  [field: string]: unknown;
}

export type BarState = 'succeeded' | 'failed' | 'running' | 'interrupted' | 'rejected';

export interface Bar {
  /** Journal key or pairing key: unique within the run. */
  key: string;
  /** What took the time: `agent`, `tool`, `input`, or the prefix of an unknown event pair. */
  kind: string;
  label: string;
  /** Milliseconds since the run was created. */
  start: number;
  end: number;
  /**
   * The end of the millisecond it was journaled in, when known. `start` is a millisecond timestamp and `end` adds
   * a duration timed from a later moment (the model call's start), so `end` alone can fall before the start of a
   * step that began while this one was still running; lanes are packed by this instead.
   */
  until?: number;
  state: BarState;
  /** Ran in an earlier worker attempt and was replayed from the journal by a later one (not run again). */
  replayed: boolean;
  /** The worker attempt it ran in (1 when unknown). */
  attempt: number;
  lane: number;
  details: [string, string][];
  /** Attempts of the call that failed before it ended (ms since the run was created, when each ended). */
  failedAttempts: { at: number; attempt: number; code: string }[];
}

export interface Point {
  at: number;
  type: string;
  label: string;
}

export interface Timeline {
  /** When the run was created (ms since the epoch): every offset is relative to it. */
  origin: number;
  /** The end of the picture (the run's end, or now while it runs). */
  span: number;
  /** Between creation and the first worker attempt's start; undefined while the run still waits. */
  queueWaitMs: number | undefined;
  attempts: { attempt: number; at: number; resumed: boolean }[];
  bars: Bar[];
  points: Point[];
  lanes: number;
}

const START_SUFFIXES = new Set(['started', 'called', 'requested']);
const END_SUFFIXES: Record<string, BarState> = {
  completed: 'succeeded',
  received: 'succeeded',
  answered: 'succeeded',
  failed: 'failed',
  expired: 'failed',
  cancelled: 'failed',
};
/** Events that are bars, marks on bars or the run's own frame, never points. */
const FRAME_EVENTS = new Set(['run.started', 'agent.delta', 'agent.attempt.failed']);

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

function usd(n: number | undefined): string {
  return n === undefined ? '—' : `$${n < 0.01 ? n.toFixed(6) : n.toFixed(4)}`;
}

export function formatMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** The pairing key of an event that opens or closes a bar: kind, then the first id-like field it carries. */
function pairKey(event: LooseEvent): { kind: string; suffix: string; id: string } | undefined {
  const dot = event.type.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const kind = event.type.slice(0, dot);
  const suffix = event.type.slice(dot + 1);
  const id = str(event.step) ?? str(event.callId) ?? str(event.requestId) ?? str(event.id);
  return id ? { kind, suffix, id } : undefined;
}

function labelOf(event: LooseEvent, kind: string): string {
  return str(event.tool) ?? str(event.agent) ?? str(event.name) ?? str(event.question) ?? kind;
}

function attemptAt(attempts: Timeline['attempts'], at: number): number {
  let current = 1;
  for (const a of attempts) if (a.at <= at) current = a.attempt;
  return current;
}

function stepBar(step: StepRecord, origin: number, attempts: Timeline['attempts']): Bar {
  const start = Date.parse(step.startedAt) - origin;
  const attempt = attemptAt(attempts, start);
  const rejected = step.error?.code === 'CIRCUIT_OPEN';
  const details: [string, string][] = [
    ['agent', step.agent],
    ['model', step.model ?? '—'],
    ['tokens', `${step.usage.inputTokens} in / ${step.usage.outputTokens} out`],
    ['cost', usd(step.costUsd)],
    ['attempts', String(step.attempts)],
    ['duration', formatMs(step.durationMs)],
    ['step', step.key],
  ];
  if (step.error) details.push(['error', `${step.error.code}: ${step.error.message}`]);
  return {
    key: step.key,
    kind: 'agent',
    label: step.agent,
    start,
    end: start + Math.max(step.durationMs, 0),
    ...(step.completedAt ? { until: Date.parse(step.completedAt) - origin + 1 } : {}),
    state: rejected ? 'rejected' : step.status,
    replayed: attempts.some((a) => a.attempt > attempt),
    attempt,
    lane: 0,
    details,
    failedAttempts: [],
  };
}

/** Packs bars into lanes (first lane free at the bar's start), in start order: overlap becomes parallel lanes. */
function packLanes(bars: Bar[]): number {
  bars.sort((a, b) => a.start - b.start || a.end - b.end || (a.key < b.key ? -1 : 1));
  const laneEnds: number[] = [];
  for (const bar of bars) {
    let lane = laneEnds.findIndex((end) => end <= bar.start);
    if (lane < 0) lane = laneEnds.length;
    laneEnds[lane] = Math.max(bar.end, bar.start + 1, bar.until ?? 0);
    bar.lane = lane;
  }
  return Math.max(laneEnds.length, 1);
}

interface Open {
  event: LooseEvent;
  kind: string;
  at: number;
}

/** Bars of event pairs that are not journaled agent steps; opened pairs still running or cut by a new attempt. */
function eventBars(
  events: readonly LooseEvent[],
  origin: number,
  journaled: ReadonlySet<string>,
  attempts: Timeline['attempts'],
  now: number,
  points: Point[],
): Bar[] {
  const open = new Map<string, Open>();
  const bars: Bar[] = [];
  for (const event of events) {
    const at = Date.parse(event.at) - origin;
    const pair = pairKey(event);
    const key = pair ? `${pair.kind}:${pair.id}` : '';
    if (pair && START_SUFFIXES.has(pair.suffix)) {
      // Started again (by a later worker attempt): the earlier start never finished.
      const earlier = open.get(key);
      if (earlier) bars.push(unfinishedBar(key, earlier, attempts, now, origin));
      open.set(key, { event, kind: pair.kind, at });
      continue;
    }
    const ends = pair ? END_SUFFIXES[pair.suffix] : undefined;
    const opened = open.get(key);
    if (pair && ends && opened) {
      open.delete(key);
      if (pair.kind === 'agent' && journaled.has(pair.id)) continue;
      bars.push(pairBar(opened, event, at, ends, attempts));
      continue;
    }
    if (!FRAME_EVENTS.has(event.type) && !(pair?.kind === 'agent' && ends)) {
      points.push({ at, type: event.type, label: pointLabel(event) });
    }
  }
  for (const [key, o] of open) {
    if (o.kind === 'agent' && journaled.has(String(o.event.step))) continue;
    bars.push(unfinishedBar(key, o, attempts, now, origin));
  }
  return bars;
}

/** A start with no end: still running, or cut off when a later worker attempt began. */
function unfinishedBar(
  key: string,
  o: Open,
  attempts: Timeline['attempts'],
  now: number,
  origin: number,
): Bar {
  const attempt = attemptAt(attempts, o.at);
  const cut = attempts.find((a) => a.attempt > attempt);
  const label = labelOf(o.event, o.kind);
  return {
    key: cut ? `${key}@${attempt}` : key,
    kind: o.kind,
    label,
    start: o.at,
    end: cut ? cut.at : Math.max(now - origin, o.at),
    state: cut ? 'interrupted' : 'running',
    replayed: false,
    attempt,
    lane: 0,
    failedAttempts: [],
    details: [
      [o.kind, label],
      ['state', cut ? `interrupted: worker attempt ${attempt} ended before it finished` : 'running'],
    ],
  };
}

function pairBar(
  opened: Open,
  event: LooseEvent,
  at: number,
  state: BarState,
  attempts: Timeline['attempts'],
): Bar {
  const attempt = attemptAt(attempts, opened.at);
  const details: [string, string][] = [[opened.kind, labelOf(opened.event, opened.kind)]];
  for (const [k, v] of Object.entries(event)) {
    if (['type', 'at', 'runId'].includes(k) || v === undefined) continue;
    details.push([k, typeof v === 'string' ? v : JSON.stringify(v)]);
  }
  details.push(['duration', formatMs(at - opened.at)]);
  return {
    key: `${opened.kind}:${pairKey(opened.event)?.id ?? opened.at}`,
    kind: opened.kind,
    label: labelOf(opened.event, opened.kind),
    start: opened.at,
    end: at,
    state,
    replayed: attempts.some((a) => a.attempt > attempt),
    attempt,
    lane: 0,
    details,
    failedAttempts: [],
  };
}

function pointLabel(event: LooseEvent): string {
  switch (event.type) {
    case 'handoff':
      return `${str(event.from)} → ${str(event.to)}`;
    case 'speaker.selected':
      return `turn ${event.turn}: ${str(event.speaker)}`;
    case 'ledger.updated':
      return `round ${event.round}`;
    case 'replanned':
      return `reset ${event.reset}`;
    case 'budget.exceeded':
      return `${str(event.budget)} ${event.used}/${event.limit}`;
    default:
      return labelOf(event, event.type);
  }
}

/** Puts each `agent.attempt.failed` on its step's bar (the latest bar of that key): a retry made visible. */
function markFailedAttempts(bars: Bar[], events: readonly LooseEvent[], origin: number): void {
  const byKey = new Map<string, Bar>();
  for (const bar of bars) if (bar.kind === 'agent') byKey.set(bar.key, bar);
  for (const e of events) {
    if (e.type !== 'agent.attempt.failed') continue;
    const bar = byKey.get(String(e.step)) ?? byKey.get(`agent:${String(e.step)}`);
    if (!bar) continue;
    const code = str((e.error as { code?: unknown } | undefined)?.code) ?? 'ERROR';
    const attempt = typeof e.attempt === 'number' ? e.attempt : bar.failedAttempts.length + 1;
    bar.failedAttempts.push({ at: Date.parse(e.at) - origin, attempt, code });
    const took = typeof e.durationMs === 'number' ? ` after ${formatMs(e.durationMs)}` : '';
    bar.details.push([`attempt ${attempt}`, `failed: ${code}${took}`]);
  }
}

/** The waterfall of `record` from its journal steps and its event stream (in stream order). */
export function buildTimeline(record: RunRecord, events: readonly LooseEvent[], now = Date.now()): Timeline {
  const origin = Date.parse(record.createdAt);
  const attempts = events
    .filter((e) => e.type === 'run.started')
    .map((e) => ({
      attempt: typeof e.attempt === 'number' ? e.attempt : 1,
      at: Date.parse(e.at) - origin,
      resumed: e.resumed === true,
    }));
  const firstStart =
    attempts[0]?.at ?? (record.startedAt ? Date.parse(record.startedAt) - origin : undefined);
  const journaled = new Set(record.steps.map((s) => s.key));
  const points: Point[] = [];
  const bars = [
    ...record.steps.map((s) => stepBar(s, origin, attempts)),
    ...eventBars(events, origin, journaled, attempts, now, points),
  ];
  markFailedAttempts(bars, events, origin);
  const lanes = packLanes(bars);
  const finished = record.finishedAt ? Date.parse(record.finishedAt) - origin : now - origin;
  const span = Math.max(finished, ...bars.map((b) => b.end), ...points.map((p) => p.at), 1);
  return { origin, span, queueWaitMs: firstStart, attempts, bars, points, lanes };
}
