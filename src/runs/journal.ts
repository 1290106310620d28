import type { Redis } from 'ioredis';
import type { AgentResult } from '../core/agent.js';
import { AttemptSupersededError } from '../core/errors.js';
import type { RunEventInput } from '../core/events.js';
import type { ErrorInfo, RunUsage, StepRecord } from '../core/run.js';
import { withoutTracing } from '../telemetry/tracing.js';
import { encodeStoredEvent, MAX_EVENTS_PER_RUN } from './events.js';
import { runKeys } from './keys.js';
import { redisScript } from './redis-script.js';

/**
 * The journal of one run: the result of every completed step under its deterministic key. A run that starts
 * again (another worker after a crash, a retried job, a replayed eval) reads it first and replays recorded
 * steps instead of calling models again. Agent failures are journaled too, so a replay degrades the same way.
 */
interface AgentEntryBase {
  kind: 'agent';
  /** Tokens and model calls of every attempt of the step (what a replay adds to the run's budget). */
  usage: { inputTokens: number; outputTokens: number };
  modelCalls: number;
  costUsd?: number;
  startedAt: string;
  completedAt: string;
  /**
   * When the step completed, in fractional milliseconds since the epoch: steps that finish within one millisecond
   * keep their order (entries written before this field sort by `completedAt`, then key).
   */
  order?: number;
}

/**
 * One tool call. `started` is written before the call is sent: an attempt that finds it knows the call may have
 * taken effect (re-sent only when the tool is idempotent). The result is what the model was shown; arguments are
 * in the model turn's entry; headers (and the secrets in them) are never journaled.
 */
export interface ToolEntry {
  kind: 'tool';
  status: 'started' | 'succeeded' | 'failed';
  agent: string;
  tool: string;
  callId: string;
  idempotent: boolean;
  startedAt: string;
  attempts: number;
  completedAt?: string;
  durationMs?: number;
  content?: string;
  error?: ErrorInfo;
  order?: number;
}

export type JournalEntry =
  | (AgentEntryBase & { ok: true; result: AgentResult })
  | (AgentEntryBase & { ok: false; agent: string; error: ErrorInfo; attempts: number; durationMs: number })
  | { kind: 'step'; value: unknown; completedAt: string }
  | ToolEntry;

const noUsage = { inputTokens: 0, outputTokens: 0 };

/** A finished tool call as a step of the run record. */
function toolStep(key: string, e: ToolEntry) {
  return {
    key,
    kind: 'tool' as const,
    agent: e.agent,
    tool: e.tool,
    status: e.status === 'succeeded' ? ('succeeded' as const) : ('failed' as const),
    attempts: e.attempts,
    startedAt: e.startedAt,
    completedAt: e.completedAt ?? e.startedAt,
    order: e.order,
    durationMs: e.durationMs ?? 0,
    usage: noUsage,
    ...(e.error ? { error: e.error } : {}),
  };
}

/** The run record's `steps`: one per journaled agent call (model turn) and tool call, in completion order. */
export function stepsFromJournal(entries: readonly [string, JournalEntry][]): StepRecord[] {
  // Sorted by the completion fields, then dropped: each step is built once, without spreading copies.
  const sortable: { step: StepRecord; completedAt: string; order: number | undefined }[] = [];
  for (const [key, e] of entries) {
    if (e.kind === 'tool' && e.status !== 'started') {
      const { order, ...step } = toolStep(key, e);
      sortable.push({ step, completedAt: step.completedAt, order });
    }
    if (e.kind !== 'agent') continue;
    const step: StepRecord = e.ok
      ? {
          key,
          kind: 'agent',
          startedAt: e.startedAt,
          completedAt: e.completedAt,
          usage: e.usage,
          agent: e.result.agent,
          status: 'succeeded',
          attempts: e.result.attempts,
          durationMs: e.result.durationMs,
          model: e.result.model,
        }
      : {
          key,
          kind: 'agent',
          startedAt: e.startedAt,
          completedAt: e.completedAt,
          usage: e.usage,
          agent: e.agent,
          status: 'failed',
          attempts: e.attempts,
          durationMs: e.durationMs,
          error: e.error,
        };
    if (e.costUsd !== undefined) step.costUsd = e.costUsd;
    sortable.push({ step, completedAt: e.completedAt, order: e.order });
  }
  // ISO timestamps of one format sort as strings; plain comparison is much cheaper than localeCompare.
  sortable.sort((a, b) => {
    if (a.order !== undefined && b.order !== undefined && a.order !== b.order) return a.order - b.order;
    if (a.completedAt !== b.completedAt) return a.completedAt < b.completedAt ? -1 : 1;
    return a.step.key < b.step.key ? -1 : 1;
  });
  return sortable.map((s) => s.step);
}

export interface RunJournal {
  get(key: string): JournalEntry | undefined;
  put(key: string, entry: JournalEntry): Promise<void>;
  entries(): [string, JournalEntry][];
  /**
   * Throws `AttemptSupersededError` when a newer attempt owns the run (journals opened with an attempt number
   * only): checked before each model call, so an attempt that lost its job does not call models for steps the
   * newer one is journaling.
   */
  assertCurrent?(): Promise<void>;
  /**
   * Journals that append a step's events to the run's event stream themselves, in the same fenced write as the
   * attempt check or the entry (one round trip instead of two). Without it the engine emits them after.
   */
  steps?: StepWrites;
}

/**
 * A step's writes, each one fenced write: the journal entry with the events of the step, and the run's other
 * events, in the order they were made.
 */
export interface StepWrites {
  /**
   * Appends `event` (`run.started`, or `agent.started` before a model call) while the attempt is current; throws
   * `AttemptSupersededError` otherwise. When a fenced write of this journal confirmed the attempt a moment ago, the
   * event is held instead and goes with the next write (the step's entry, when the step is quick) or on its own
   * within `ANNOUNCE_HOLD_MS`: a step then costs one round trip, not two.
   */
  announce(event: RunEventInput): Promise<void>;
  /** Appends `event` after every event made before it, in one fenced write. */
  emit(event: RunEventInput): Promise<void>;
  /** Journals `entry` under `key` and appends `event` after it, in one fenced write. */
  complete(key: string, entry: JournalEntry, event: RunEventInput): Promise<void>;
  /** Writes held events and waits for every write sent without waiting (the end of an execution). */
  flush(): Promise<void>;
}

export interface RedisJournalOptions {
  /** The attempt number the run lifecycle gave this execution: every write is fenced on it. */
  attempt?: number;
  /** Append the run's events to its event stream with the journal's writes (`RunJournal.steps`). */
  stepEvents?: boolean;
  /**
   * The journal's stored fields as read right after this attempt was counted (the lifecycle's start reads them
   * in its own step): nothing is read again, and that start stands for the attempt check.
   */
  stored?: Record<string, string>;
  /** Milliseconds of a monotonic clock, for how fresh a confirmation is (default `performance.now`). */
  clock?: () => number;
}

/**
 * How long a fenced write's confirmation that the attempt is current stands in for the check before the next
 * model call. Far below any job lock period (seconds), and about what the check itself takes on a loaded host: a
 * step that starts right after the previous one was journaled does not wait for a second round trip.
 */
const CONFIRMATION_FRESH_MS = 1;

/**
 * How long a held step start waits for the step's entry to ride along with: well below what a person watching a
 * run's stream notices, and above a quick step (a cached answer, an instant tool, a test model).
 */
const ANNOUNCE_HOLD_MS = 20;

/**
 * Journals entry ARGV[3] under field ARGV[2] (none when ARGV[2] is empty) and appends the events ARGV[5..] to the
 * run's stream (capped at ARGV[4]), only while ARGV[1] is still the run's current attempt (its fencing token).
 */
const WRITE_IF_CURRENT = `if ARGV[1] ~= '' and redis.call('HGET', KEYS[1], 'attempt') ~= ARGV[1] then return 0 end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[2], ARGV[2], ARGV[3]) end
for i = 5, #ARGV do redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'e', ARGV[i]) end
return 1`;

const writeIfCurrent = redisScript(WRITE_IF_CURRENT);

/**
 * Loads the journal once (with the attempt check, in one round trip; none when the start read it: `stored`), then
 * serves reads from memory and writes through to Redis. With `attempt` (the attempt number the run lifecycle gave
 * this execution), a write is refused once a newer attempt has started — an execution that lost its job's lock
 * while another took over — and throws `AttemptSupersededError`; so does opening the journal of an attempt that is
 * already superseded.
 */
export async function openRedisJournal(
  redis: Redis,
  prefix: string,
  runId: string,
  options: number | RedisJournalOptions = {},
): Promise<RunJournal> {
  const {
    attempt,
    stepEvents = false,
    stored,
    clock = () => performance.now(),
  } = typeof options === 'number' ? { attempt: options } : options;
  const keys = runKeys(prefix, runId);
  const fence = attempt === undefined ? '' : String(attempt);
  const raw = stored ?? (await readFenced(redis, keys, fence));
  const entries = new Map<string, JournalEntry>();
  for (const k in raw) entries.set(k, decodeJournalEntry(k, raw[k] as string));
  // When a fenced write (or the open, or the start that read `stored`) last confirmed that this attempt owns the
  // run.
  let confirmedAt = clock();
  // Writes sent without waiting (held events sent by their timer), checked by the next write.
  let unconfirmed: Promise<unknown> | undefined;
  // Encoded events held for the next write, oldest first, and the timer that sends them on their own.
  let held: string[] = [];
  let holdTimer: ReturnType<typeof setTimeout> | undefined;
  const confirm = (written: unknown) => {
    if (written !== 1) {
      // Never current again: no later write may pass as freshly confirmed.
      confirmedAt = Number.NEGATIVE_INFINITY;
      throw new AttemptSupersededError();
    }
    confirmedAt = clock();
  };
  /** Waits for `written` and for writes sent without waiting before it; all must have found the attempt current. */
  const settle = async (written?: Promise<unknown>) => {
    const pending = unconfirmed;
    unconfirmed = undefined;
    if (!pending) {
      // The usual case: nothing was sent without waiting since the last write.
      if (written) confirm(await written);
      return;
    }
    const [began, done] = await Promise.all([pending, written]);
    confirm(began);
    if (written) confirm(done);
  };
  /**
   * The held events (oldest first), after which a write appends its own. The hold timer stays armed: it finds
   * nothing to send, or events held since, which it sends within the hold. A quick run's steps then share one timer
   * instead of arming and clearing one each.
   */
  const takeHeld = (): string[] => {
    const events = held;
    held = [];
    return events;
  };
  const send = (field: string, value: string, events: string[]) =>
    writeIfCurrent(redis, [keys.record, keys.journal, keys.events], [fence, field, value, MAX, ...events]);
  const sendHeld = () => {
    holdTimer = undefined;
    const events = takeHeld();
    if (events.length === 0) return;
    const written = send('', '', events);
    const before = unconfirmed;
    const sent = before
      ? Promise.all([before, written]).then(([a, b]) => (a === 1 && b === 1 ? 1 : 0))
      : written;
    // Settled by the next write; a failure meanwhile must not surface as an unhandled rejection.
    sent.catch(() => {});
    unconfirmed = sent;
  };
  const write = async (k: string, entry: JournalEntry, events: string[]) => {
    const value = encodeJournalEntry(k, entry);
    await settle(send(k, value, held.length > 0 ? [...takeHeld(), ...events] : events));
    entries.set(k, entry);
  };
  const steps: StepWrites = {
    async announce(event) {
      const encoded = encodeStoredEvent(event);
      if (clock() - confirmedAt < CONFIRMATION_FRESH_MS) {
        held.push(encoded);
        holdTimer ??= setTimeout(sendHeld, ANNOUNCE_HOLD_MS);
        return;
      }
      await settle(send('', '', [...takeHeld(), encoded]));
    },
    async emit(event) {
      const events = [...takeHeld(), encodeStoredEvent(event)];
      // One Redis span per streamed delta would flood the run's trace: deltas are not traced.
      await settle(
        event.type === 'agent.delta' ? withoutTracing(() => send('', '', events)) : send('', '', events),
      );
    },
    complete: (k, entry, event) => write(k, entry, [encodeStoredEvent(event)]),
    async flush() {
      if (holdTimer !== undefined) clearTimeout(holdTimer);
      holdTimer = undefined;
      if (held.length > 0) await settle(send('', '', takeHeld()));
      else await settle();
    },
  };
  return {
    get: (k) => entries.get(k),
    async assertCurrent() {
      const owner = redis.hget(keys.record, 'attempt');
      await settle(owner.then((current) => (attempt === undefined || current === fence ? 1 : 0)));
    },
    put: (k, entry) => write(k, entry, []),
    entries: () => [...entries.entries()],
    ...(stepEvents ? { steps } : {}),
  };
}

/** The journal's stored fields, read with the attempt check in one round trip. */
async function readFenced(
  redis: Redis,
  keys: ReturnType<typeof runKeys>,
  fence: string,
): Promise<Record<string, string>> {
  const [[readErr, raw], [checkErr, owner]] = (await redis
    .pipeline()
    .hgetall(keys.journal)
    .hget(keys.record, 'attempt')
    .exec()) as [[Error | null, Record<string, string>], [Error | null, string | null]];
  if (readErr || checkErr) throw readErr ?? checkErr;
  if (fence !== '' && owner !== fence) throw new AttemptSupersededError();
  return raw;
}

const MAX = String(MAX_EVENTS_PER_RUN);

/**
 * How an agent step's entry is stored: without what the entry already says elsewhere — the result's key (the
 * journal field), its usage when it is the entry's, an empty list of tool calls, and the structured answer when it
 * is the text parsed (`structuredIsText`). A finished run keeps its journal for the retention period, so these
 * repeats were a fifth to a half of each entry. `decodeJournalEntry` puts them back.
 */
interface StoredAgentResult extends Omit<AgentResult, 'key' | 'usage' | 'toolCalls'> {
  key?: string;
  usage?: AgentResult['usage'];
  toolCalls?: AgentResult['toolCalls'];
  structuredIsText?: true;
}

export function encodeJournalEntry(key: string, entry: JournalEntry): string {
  if (entry.kind !== 'agent' || !entry.ok) return JSON.stringify(entry);
  const { key: resultKey, usage, toolCalls, structured, ...rest } = entry.result;
  const result: StoredAgentResult = rest;
  if (resultKey !== key) result.key = resultKey;
  if (usage.inputTokens !== entry.usage.inputTokens || usage.outputTokens !== entry.usage.outputTokens) {
    result.usage = usage;
  }
  if (toolCalls.length > 0) result.toolCalls = toolCalls;
  if (structured !== undefined) {
    if (isTextParsed(rest.text, structured)) result.structuredIsText = true;
    else result.structured = structured;
  }
  return JSON.stringify({ ...entry, result });
}

/** Whether `structured` is exactly what parsing `text` gives (an answer validated without changes). */
function isTextParsed(text: string, structured: unknown): boolean {
  try {
    return JSON.stringify(JSON.parse(text)) === JSON.stringify(structured);
  } catch {
    return false;
  }
}

/** A stored entry as the engine uses it (entries written before `encodeJournalEntry` read the same). */
export function decodeJournalEntry(key: string, raw: string): JournalEntry {
  const entry = JSON.parse(raw) as JournalEntry;
  if (entry.kind !== 'agent' || !entry.ok) return entry;
  const { structuredIsText, ...stored } = entry.result as StoredAgentResult;
  const result: AgentResult = {
    ...stored,
    key: stored.key ?? key,
    usage: stored.usage ?? { inputTokens: entry.usage.inputTokens, outputTokens: entry.usage.outputTokens },
    toolCalls: stored.toolCalls ?? [],
  };
  if (structuredIsText) result.structured = JSON.parse(stored.text);
  return { ...entry, result };
}

/** What the journaled agent calls spent (failures included): the usage of a run that ends without an outcome. */
export function usageOf(entries: readonly [string, JournalEntry][]): RunUsage {
  const usage: RunUsage = { inputTokens: 0, outputTokens: 0, modelCalls: 0 };
  for (const [, e] of entries) {
    if (e.kind !== 'agent') continue;
    usage.inputTokens += e.usage.inputTokens;
    usage.outputTokens += e.usage.outputTokens;
    usage.modelCalls += e.modelCalls;
    if (e.costUsd !== undefined) usage.costUsd = (usage.costUsd ?? 0) + e.costUsd;
  }
  return usage;
}

/** An in-process journal (unit tests, benchmarks, evals); `seed` pre-loads recorded steps. */
export function memoryJournal(seed: Iterable<[string, JournalEntry]> = []): RunJournal {
  const entries = new Map(seed);
  return {
    get: (k) => entries.get(k),
    put: async (k, entry) => {
      entries.set(k, entry);
    },
    entries: () => [...entries.entries()],
  };
}

export async function readJournal(
  redis: Redis,
  prefix: string,
  runId: string,
): Promise<[string, JournalEntry][]> {
  const raw = await redis.hgetall(runKeys(prefix, runId).journal);
  return Object.entries(raw).map(([k, v]) => [k, decodeJournalEntry(k, v)]);
}
