import { setTimeout as sleep } from 'node:timers/promises';
import type { RunRecord } from '../../src/runs/schema.js';

/**
 * The load of the chaos check: N news-desk runs posted through the HTTP API, each with an Idempotency-Key and
 * retried with the same key while the API (or Redis behind it) is down, plus the reads the checks need.
 */

export const TEAM = 'news-desk';

const ARTICLE = `Contoso Motors raises guidance after record quarter

Contoso Motors reported record quarterly profit on Tuesday and raised its full-year guidance, sending shares higher in early trading. Analysts said strong orders for its electric vans beat expectations. Meanwhile, supplier Fabrikam Industries warned of a revenue shortfall after a recall of faulty battery packs, and its shares fell.`;

/** The tag every run's input ends with: the model server's requests carry it, so each maps to one run. */
const TAG = /\[chaos (\w+) run (\d+)\]/;

export interface RunSpec {
  index: number;
  pattern: 'sequential' | 'concurrent';
  input: string;
  tag: string;
  idempotencyKey: string;
}

export function runSpecs(count: number, session: string): RunSpec[] {
  return Array.from({ length: count }, (_, index) => {
    const tag = `[chaos ${session} run ${index}]`;
    return {
      index,
      // Alternating keeps the mix even at any scale and the run's pattern derivable from its index.
      pattern: index % 2 === 0 ? 'sequential' : 'concurrent',
      input: `${ARTICLE}\n\n${tag}`,
      tag,
      idempotencyKey: `chaos-${session}-${index}`,
    };
  });
}

/** The run index a text carries, when it carries this session's tag. */
export function runIndexIn(text: string, session: string): number | undefined {
  const m = TAG.exec(text);
  return m && m[1] === session ? Number(m[2]) : undefined;
}

export interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

/** A small HTTP client for the API; network errors and timeouts throw. */
export class ApiClient {
  constructor(
    readonly base: string,
    private readonly key: string,
  ) {}

  async call(
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<ApiAnswer> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.key}`,
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      body = { text };
    }
    return { status: res.status, body, headers: res.headers };
  }
}

/** Why a request did not get an answer: `timeout` or the network error's code. */
export function failureOf(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timeout';
    const cause = (err as { cause?: { code?: string } }).cause;
    if (cause?.code) return cause.code;
    return err.message;
  }
  return String(err);
}

function errorCodeOf(body: Record<string, unknown>): string | undefined {
  const error = body.error as { code?: unknown } | undefined;
  return typeof error?.code === 'string' ? error.code : undefined;
}

export interface SubmitAttempt {
  /** HTTP status, or why there was none (`timeout`, `ECONNREFUSED`, …). */
  outcome: number | string;
  code?: string;
  runId?: string;
}

export interface Submission {
  spec: RunSpec;
  attempts: SubmitAttempt[];
  /** The run the API accepted for this key (202, or 200 when a retry found the first attempt's run). */
  runId?: string;
  /** Why the run was never accepted. */
  rejected?: string;
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);

export function requestBody(spec: RunSpec) {
  return {
    team: TEAM,
    pattern: spec.pattern,
    input: spec.input,
    metadata: { chaosIndex: String(spec.index) },
  };
}

/**
 * Posts one run until the API accepts or refuses it. Connection errors, timeouts and 5xx are retried with the
 * same Idempotency-Key (the API may have created the run before the answer was lost); other answers are final.
 */
export async function submitRun(
  client: ApiClient,
  spec: RunSpec,
  options: { deadlineMs: number; shouldStop: () => boolean },
): Promise<Submission> {
  const submission: Submission = { spec, attempts: [] };
  const deadline = Date.now() + options.deadlineMs;
  let delay = 200;
  for (;;) {
    try {
      const res = await client.call('POST', '/v1/runs', {
        body: requestBody(spec),
        headers: { 'idempotency-key': spec.idempotencyKey },
      });
      const runId = typeof res.body.id === 'string' ? res.body.id : undefined;
      const code = errorCodeOf(res.body);
      submission.attempts.push({
        outcome: res.status,
        ...(code ? { code } : {}),
        ...(runId ? { runId } : {}),
      });
      if ((res.status === 200 || res.status === 202) && runId) {
        submission.runId = runId;
        return submission;
      }
      if (!RETRYABLE_STATUS.has(res.status)) {
        submission.rejected = `${res.status}${code ? ` ${code}` : ''}`;
        return submission;
      }
    } catch (err) {
      submission.attempts.push({ outcome: failureOf(err) });
    }
    if (Date.now() > deadline || options.shouldStop()) {
      const last = submission.attempts.at(-1);
      submission.rejected = `gave up after ${submission.attempts.length} attempts (last: ${last?.outcome}${last?.code ? ` ${last.code}` : ''})`;
      return submission;
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 2_000);
  }
}

/**
 * Posts every run at `ratePerSecond`, each on its own (a slow or failing one does not hold up the next), and
 * calls `before(index)` just before run `index` goes out: the chaos hooks its restarts there.
 */
export async function submitAll(
  client: ApiClient,
  specs: readonly RunSpec[],
  ratePerSecond: number,
  hooks: { before(index: number): void; done(s: Submission): void; shouldStop(): boolean },
  deadlineMs: number,
): Promise<Submission[]> {
  const started = Date.now();
  const pending: Promise<Submission>[] = [];
  for (const spec of specs) {
    if (hooks.shouldStop()) break;
    const due = started + (spec.index * 1_000) / ratePerSecond;
    if (due > Date.now()) await sleep(due - Date.now());
    hooks.before(spec.index);
    pending.push(
      submitRun(client, spec, { deadlineMs, shouldStop: hooks.shouldStop }).then((s) => {
        hooks.done(s);
        return s;
      }),
    );
  }
  return Promise.all(pending);
}

/** Retries a read through API restarts; `undefined` means the API never answered. */
async function withRetries<T>(read: () => Promise<T>, tries = 10): Promise<T | undefined> {
  for (let i = 0; i < tries; i++) {
    try {
      return await read();
    } catch {
      await sleep(500);
    }
  }
  return undefined;
}

export type RunLookup = { found: true; record: RunRecord } | { found: false; status: number | string };

export async function getRun(client: ApiClient, id: string): Promise<RunLookup> {
  const res = await withRetries(async () => {
    const answer = await client.call('GET', `/v1/runs/${encodeURIComponent(id)}`);
    if (answer.status >= 500) throw new Error(`HTTP ${answer.status}`);
    return answer;
  });
  if (!res) return { found: false, status: 'no answer' };
  if (res.status === 200) return { found: true, record: res.body as unknown as RunRecord };
  return { found: false, status: res.status };
}

/** Every run this API key can see, newest first (the list endpoint, page by page). */
export async function listRuns(client: ApiClient, timeoutMs = 10_000): Promise<RunRecord[]> {
  const items: RunRecord[] = [];
  let cursor: string | undefined;
  for (;;) {
    const query = `limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await client.call('GET', `/v1/runs?${query}`, { timeoutMs });
    if (res.status !== 200) throw new Error(`GET /v1/runs answered ${res.status}`);
    items.push(...((res.body.items as RunRecord[] | undefined) ?? []));
    cursor = typeof res.body.nextCursor === 'string' ? res.body.nextCursor : undefined;
    if (!cursor) return items;
  }
}

/** The same POST again with the same key after the chaos: it must answer the run it answered first. */
export async function replaySubmission(
  client: ApiClient,
  spec: RunSpec,
): Promise<{ status: number | string; runId?: string }> {
  const res = await withRetries(() =>
    client.call('POST', '/v1/runs', {
      body: requestBody(spec),
      headers: { 'idempotency-key': spec.idempotencyKey },
    }),
  );
  if (!res) return { status: 'no answer' };
  return {
    status: res.status,
    ...(typeof res.body.id === 'string' ? { runId: res.body.id } : {}),
  };
}
