import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type TenantLimitTable, tenantLimitsFor } from '../config/tenant-limits.js';
import { RefusedError } from '../core/errors.js';
import type { RunEventInput } from '../core/events.js';
import type { HostList } from '../core/host-list.js';
import type { ModelSettings } from '../core/model.js';
import type { JobEnd, RunQueue, WebhookPort } from '../core/ports.js';
import type { RunOutcome } from '../core/run.js';
import type { ModelAllowList } from '../policies/model-allowlist.js';
import { LIVE_JOB_STATES } from '../queue/runs-queue.js';
import type { RunRecord, RunRequest } from '../runs/schema.js';
import { type RunStore, type StoredRun, UnreadableRunError } from '../runs/store.js';
import { type ModelEnvironment, runModelProblem } from '../teams/models.js';
import { type RunTeam, resolveRunTeam, TeamResolutionError, type TeamResolver } from '../teams/resolver.js';
import { assignVariant } from '../teams/rollout.js';
import { BASE_VARIANT } from '../teams/variants.js';
import { RunInputs } from './inputs.js';
import { checkModelChoice } from './model-choice.js';
import {
  type Finished,
  type Inserted,
  type RetryReset,
  type RunWrites,
  terminalEvent,
} from './run-writes.js';
import { type TenantView, tenantViews } from './tenants.js';
import { RunWebhooks } from './webhooks.js';

export interface LifecycleDeps {
  redis: Redis;
  prefix: string;
  store: RunStore;
  writes: RunWrites;
  queue: RunQueue<RunRequest>;
  teams: TeamResolver;
  /** The operator's model configuration, for the team's model check of a run's `options.model`. */
  modelEnvironment: ModelEnvironment;
  /** The models runs may choose with `options.model` (BATON_ALLOWED_MODELS); without it, any. */
  models?: ModelAllowList;
  /** Per-tenant limits on runs (BATON_TENANT_LIMITS); without them, none. */
  tenantLimits?: TenantLimitTable | undefined;
  /** Run webhooks: where deliveries go and the hosts they may go to; without them, webhooks are refused. */
  webhooks?: { port: WebhookPort; hosts: HostList } | undefined;
  /**
   * Replicas that must hold a new run before it is accepted (BATON_REDIS_WAIT_REPLICAS), so that a failover to
   * one of them cannot lose it; without it, none.
   */
  replicas?: { count: number; timeoutMs: number } | undefined;
  log: Logger;
}

export interface CreateRun {
  request: RunRequest;
  /** Key id of the caller: the run's owner. */
  owner: string;
  idempotencyKey?: string | undefined;
  /** Trace of the request that creates the run (its id goes on the record; the context travels in the job). */
  traceId?: string | undefined;
  trace: Record<string, string>;
  /** The client's rollout subject from the `Baton-Subject` header (`metadata.subject` otherwise). */
  subject?: string | undefined;
}

/**
 * What a worker should do with a delivered job. `attempt` is the attempt's fencing token: its journal and its
 * finish are refused once a newer attempt has started (`superseded`: one already has).
 */
export type StartDecision =
  | { kind: 'gone' }
  | { kind: 'finished'; record: RunRecord }
  | { kind: 'cancelled' }
  | { kind: 'superseded' }
  | {
      kind: 'run';
      record: RunRecord;
      owner: string;
      attempt: number;
      startedAt: string;
      /** The run's journal as stored, read after this attempt was counted (`openRedisJournal`'s `stored`). */
      journal: Record<string, string>;
    };

/**
 * The run lifecycle: the one owner of a run's status and terminal events. A run is created `queued` (once per
 * idempotency key, enqueued or rolled back), a worker starts it (`running`), and it ends `succeeded`, `failed` or
 * `cancelled` — by its worker, by a cancel that reaches it across processes, or by being abandoned when its job
 * can no longer run. An operator may retry a failed run. The API, the operators' console and the worker call
 * this; the Redis writes it makes are in ./run-writes.ts.
 */
export class RunLifecycle {
  /** Runs waiting for people: their requests, the answers, the expiries. */
  readonly inputs: RunInputs;
  /** Runs' webhooks: checked at creation, told of the events they subscribe to. */
  readonly webhooks: RunWebhooks;

  constructor(private readonly deps: LifecycleDeps) {
    this.webhooks = new RunWebhooks({
      writes: deps.writes,
      port: deps.webhooks?.port,
      hosts: deps.webhooks?.hosts,
      log: deps.log,
    });
    this.inputs = new RunInputs({ ...deps, webhooks: this.webhooks });
  }

  /** A run id allocated before anything is stored (the API stamps it on the request's span). */
  newRunId(): string {
    return randomUUID();
  }

  /**
   * The team a request names, at the version it pins (or the current one), with its variant: refused (400) when
   * any of them is unknown, when the team is not wired for the pattern, or when the run's model is not allowed.
   */
  async teamFor(request: Pick<RunRequest, 'team' | 'teamVersion' | 'pattern' | 'options'>): Promise<RunTeam> {
    let resolved: RunTeam;
    try {
      resolved = await resolveRunTeam(this.deps.teams, { ...request, variant: request.options?.variant });
    } catch (err) {
      if (!(err instanceof TeamResolutionError)) throw err;
      throw new RefusedError('invalid', err.code, err.message, err.details);
    }
    const { team } = resolved;
    if (team.patterns[request.pattern] === undefined) {
      throw new RefusedError(
        'invalid',
        'PATTERN_NOT_SUPPORTED',
        `Team "${team.name}" is not wired for the ${request.pattern} pattern.`,
        { patterns: Object.keys(team.patterns) },
      );
    }
    this.checkModels(resolved, request.options?.model);
    return resolved;
  }

  /**
   * The team of a new run with its variant: the request's `options.variant` when it names one, else the arm of
   * the team's rollout that `key` (the subject, or the run id) falls in (`teams/rollout.ts`).
   */
  private async assignedTeam(request: RunRequest, key: string): Promise<RunTeam> {
    const resolved = await this.teamFor(request);
    if (request.options?.variant !== undefined || !resolved.team.rollout) return resolved;
    const arm = assignVariant(resolved.team, key);
    if (arm === BASE_VARIANT) return resolved;
    return this.teamFor({
      ...request,
      teamVersion: resolved.teamVersion,
      options: { ...request.options, variant: arm },
    });
  }

  /** The models a run may use: the team's own list (`models`) and the operator's allow-list, side by side. */
  private checkModels(resolved: RunTeam, model: ModelSettings | undefined): void {
    const problem = runModelProblem(resolved.team, model, this.deps.modelEnvironment);
    if (problem) throw new RefusedError('invalid', 'MODEL_NOT_ALLOWED', problem, { model });
    if (this.deps.models) checkModelChoice(resolved.team, model, this.deps.models);
  }

  /**
   * Creates a run and puts its job on the queue. With an idempotency key used before by the same owner, returns
   * that run instead (`created: false`), or refuses a different request under the same key (409). A run whose job
   * cannot be enqueued is removed again and the request refused (503), so nothing is left half-created.
   */
  async create(input: CreateRun, runId = this.newRunId()): Promise<{ record: RunRecord; created: boolean }> {
    const { request, owner } = input;
    this.webhooks.check(request.webhook);
    const subject = input.subject ?? request.metadata?.subject;
    // Asked while the team resolves (one round trip less before the insert); a failure surfaces where it is read.
    const paused = this.deps.queue.isPaused();
    paused.catch(() => {});
    const resolved = await this.assignedTeam(request, subject ?? runId);
    const team = resolved.team;
    const variant = resolved.variant ?? BASE_VARIANT;
    const record: RunRecord = {
      id: runId,
      status: 'queued',
      team: team.name,
      pattern: request.pattern,
      input: request.input,
      options: request.options ?? {},
      ...(request.metadata ? { metadata: request.metadata } : {}),
      ...(request.webhook ? { webhook: request.webhook } : {}),
      usage: { inputTokens: 0, outputTokens: 0, modelCalls: 0 },
      steps: [],
      ...(input.traceId ? { traceId: input.traceId } : {}),
      attempt: 0,
      ...((await paused) ? { queuePaused: true } : {}),
      definitionVersion: resolved.definitionVersion,
      teamVersion: resolved.teamVersion,
      variant,
      ...(subject !== undefined ? { subject } : {}),
      createdAt: new Date().toISOString(),
    };
    const idempotency = input.idempotencyKey
      ? {
          key: input.idempotencyKey,
          requestHash: createHash('sha256').update(JSON.stringify(request)).digest('hex'),
        }
      : undefined;
    const limits = this.deps.tenantLimits ? tenantLimitsFor(this.deps.tenantLimits, owner) : undefined;
    const inserted = await this.deps.writes.insert(record, owner, input.trace, idempotency, limits);
    if ('limited' in inserted) throw tenantLimitRefusal(inserted);
    if ('conflict' in inserted) {
      throw new RefusedError(
        'conflict',
        'IDEMPOTENCY_CONFLICT',
        'This Idempotency-Key was already used with a different request.',
        { runId: inserted.conflict },
      );
    }
    if (!inserted.created) {
      const existing = await this.deps.store.get(inserted.existingId);
      // The key outlives no run (see RunWrites.insert): a run it names without a record was never stored whole
      // (Redis failed, or failed over, half-way through its creation). This request is that one: it completes
      // the creation under the same id.
      if (!existing) return this.create({ ...input, idempotencyKey: undefined }, inserted.existingId);
      // Stored, but perhaps never queued (the same failure, a step later): queuing it again changes nothing
      // when its job is there, since the job id is the run id.
      if (existing.record.status === 'queued' && existing.record.attempt === 0) {
        await this.deps.queue.enqueue(existing.record.id, requestOf(existing.record), {
          trace: existing.trace,
        });
      }
      return { record: existing.record, created: false };
    }
    try {
      // The job carries the version: the worker executes exactly it, whatever the team's current version is then.
      await this.deps.queue.enqueue(runId, {
        ...request,
        team: team.name,
        teamVersion: resolved.teamVersion,
        ...(variant !== BASE_VARIANT ? { options: { ...request.options, variant } } : {}),
      });
    } catch (err) {
      this.deps.log.error({ err, runId }, 'could not enqueue the run');
      // A discard that fails too (Redis is away) leaves what a retry with the same key completes.
      await this.deps.writes
        .discard(runId, owner, input.idempotencyKey)
        .catch((discardErr: unknown) =>
          this.deps.log.error({ err: discardErr, runId }, 'could not discard the run'),
        );
      throw new RefusedError(
        'unavailable',
        'QUEUE_UNAVAILABLE',
        'The run queue is unavailable; try again shortly.',
      );
    }
    await this.replicate(runId);
    return { record, created: true };
  }

  /** Waits until the configured replicas hold the new run and its job; accepts it after the timeout all the same. */
  private async replicate(runId: string): Promise<void> {
    const replicas = this.deps.replicas;
    if (!replicas || replicas.count === 0) return;
    const confirmed = await Promise.all([
      this.deps.writes.replicated(runId, replicas.count, replicas.timeoutMs),
      this.deps.queue.replicated(replicas.count, replicas.timeoutMs),
    ]).then(
      (counts) => Math.min(...counts),
      // A server that refuses WAIT, or a node between owners of the slot: the run is stored and queued.
      (err: unknown) => {
        this.deps.log.warn({ err, runId }, 'could not ask the replicas whether they hold the run');
        return 0;
      },
    );
    if (confirmed < replicas.count) {
      this.deps.log.warn(
        { runId, replicas: confirmed, wanted: replicas.count },
        'run accepted before the replicas confirmed it: a failover now could lose it',
      );
    }
  }

  /**
   * A worker took the run's job: counts the attempt (its fencing token) and marks the run running, unless the run
   * is gone, already finished (a duplicate delivery), or cancelled before it started (then it is finished as
   * cancelled here, unless a newer attempt took over meanwhile).
   */
  async start(runId: string): Promise<StartDecision> {
    // One round trip: the attempt counted, the run marked running, its record and its journal read back (the
    // execution opens the journal from what this read).
    const started = await this.deps.writes.startAttempt(runId, new Date().toISOString());
    if (started.verdict === 'gone') return { kind: 'gone' };
    const { record, owner } = this.deps.store.fromFields(runId, started.fields);
    const { attempt } = started;
    if (started.verdict === 'finished') return { kind: 'finished', record };
    const startedAt = record.startedAt ?? new Date().toISOString();
    if (started.verdict === 'running') {
      return { kind: 'run', record, owner, attempt, startedAt, journal: started.journal };
    }
    const ended = await this.finishAs(runId, () =>
      this.deps.writes.finishCancelled(record, { startedAt, fence: attempt }),
    );
    return ended === 'superseded' ? { kind: 'superseded' } : { kind: 'cancelled' };
  }

  /**
   * Records an execution's outcome and its terminal event. With `attempt` (the execution's fencing token) it is
   * refused when a newer attempt owns the run (`superseded`); it is never written over a finished run.
   */
  async finish(
    runId: string,
    outcome: RunOutcome,
    startedAt: string | undefined,
    attempt?: number,
    /** The run's owner when the caller knows it (the start told it): saves reading it again. */
    owner?: string,
  ): Promise<Finished> {
    return this.finishAs(
      runId,
      () => this.deps.writes.finish(runId, outcome, { startedAt, fence: attempt, owner }),
      terminalEvent(outcome),
    );
  }

  /**
   * Fails a run whose job can no longer run (out of attempts, stalled for good, vanished) with `RUN_ABANDONED`
   * and what its journal says it spent. True when this ended the run.
   */
  async abandon(runId: string, message: string): Promise<boolean> {
    const { record, owner } = (await this.readForAbandon(runId)) ?? {};
    if (!record) return false;
    if (this.deps.store.isTerminal(record.status)) {
      // Finished, but still live: its finisher stopped between the run's write and the indexes'.
      if (owner !== undefined) await this.deps.writes.forgetFinished(runId, owner);
      return false;
    }
    const usage = await this.deps.writes.journaledUsage(runId);
    const ended = await this.finish(
      runId,
      {
        status: 'failed',
        error: { code: 'RUN_ABANDONED', message },
        usage,
        steps: record.steps,
        definitionVersion: record.definitionVersion,
      },
      record.startedAt,
    );
    if (ended === 'finished') this.deps.log.warn({ runId, reason: message }, 'run abandoned');
    return ended === 'finished';
  }

  /** The record to abandon; a run whose record cannot be read is abandoned all the same. */
  private async readForAbandon(runId: string): Promise<
    | {
        record: Pick<RunRecord, 'status' | 'steps' | 'definitionVersion' | 'startedAt'>;
        owner?: string;
      }
    | undefined
  > {
    try {
      const stored = await this.deps.store.get(runId);
      if (!stored) await this.deps.writes.forgetLive(runId);
      return stored;
    } catch (err) {
      if (!(err instanceof UnreadableRunError)) throw err;
      return { record: { status: 'running', steps: [], definitionVersion: '' } };
    }
  }

  /** Runs not finished yet that were queued before `before` (ms since epoch), oldest first: the reconciler's walk. */
  liveRunsBefore(before: number, limit: number, offset = 0): Promise<string[]> {
    return this.deps.writes.liveRuns(before, limit, offset);
  }

  /**
   * Abandons the runs among `runIds` whose job has ended without ending them (failed for good, completed) or is
   * gone. Returns the runs it ended.
   */
  async abandonOrphans(runIds: readonly string[]): Promise<string[]> {
    const ended = await this.deps.queue.endedJobs(runIds);
    const abandoned: string[] = [];
    for (const [runId, end] of ended) {
      if (await this.abandon(runId, orphanReason(end))) abandoned.push(runId);
    }
    return abandoned;
  }

  /**
   * Cancels a run: a queued one at once; a running one through its worker, which aborts it (its in-flight model
   * call included). Refused (409) when the run has already finished.
   */
  async cancel(run: StoredRun): Promise<RunRecord> {
    const { record } = run;
    if (this.deps.store.isTerminal(record.status)) {
      throw new RefusedError('conflict', 'RUN_FINISHED', `The run has already finished (${record.status}).`, {
        status: record.status,
      });
    }
    await this.cancelLive(record);
    return (await this.deps.store.get(record.id))?.record ?? record;
  }

  /** Limits and usage per tenant: `keyIds` (the configured keys) and every key id that has created a run. */
  tenants(keyIds: readonly string[]): Promise<TenantView[]> {
    return tenantViews(this.deps.redis, this.deps.prefix, this.deps.tenantLimits, keyIds);
  }

  /** Of `runIds`, the runs a cancel was requested for (workers check this besides the cancel channel). */
  cancelRequested(runIds: readonly string[]): Promise<string[]> {
    return this.deps.writes.cancelRequested(runIds);
  }

  /** Cancels every queued or running run of `team`: waiting ones at once, running ones through their worker. */
  async cancelTeam(team: string): Promise<{ team: string; cancelled: string[]; cancelling: string[] }> {
    const jobs = (await this.deps.queue.liveJobs()).filter((job) => job.team === team);
    // A retired team has no current version but may still have runs in flight.
    if (jobs.length === 0 && !(await this.deps.teams.current(team))) {
      throw new RefusedError('not-found', 'NOT_FOUND', `Team "${team}" was not found.`);
    }
    const cancelled: string[] = [];
    const cancelling: string[] = [];
    const seen = new Set<string>();
    for (const job of jobs) {
      if (seen.has(job.runId)) continue;
      seen.add(job.runId);
      const [run] = await this.deps.store.getMany([job.runId]);
      if (!run || this.deps.store.isTerminal(run.record.status)) continue;
      (await this.cancelLive(run.record)) ? cancelled.push(job.runId) : cancelling.push(job.runId);
    }
    return { team, cancelled, cancelling };
  }

  /** Asks the run's worker to stop, and finishes it here when no worker holds its job. True when finished here. */
  private async cancelLive(record: RunRecord): Promise<boolean> {
    await this.deps.writes.requestCancel(record.id);
    // A job no worker holds is removed here; a locked (running) one is aborted by its worker.
    if (!(await this.deps.queue.removeWaiting(record.id))) return false;
    await this.finishAs(record.id, () => this.deps.writes.finishCancelled(record));
    return true;
  }

  /**
   * Retries a failed run: a new attempt under the same run id that reuses the journal (see
   * `RunWrites.resetForRetry`). The old job is removed first, then the job is added again with the same id; when
   * that fails the run is failed again, as it was. The run keeps its trace: the new job continues it and links to
   * the retrying request.
   */
  async retry(runId: string): Promise<{ record: RunRecord; reset: RetryReset }> {
    const run = await this.deps.store.get(runId);
    if (!run) throw new RefusedError('not-found', 'NOT_FOUND', `Run "${runId}" was not found.`);
    const { record } = run;
    if (record.status !== 'failed') {
      throw new RefusedError(
        'conflict',
        'RUN_NOT_FAILED',
        `Only a failed run can be retried; this one is ${record.status}.`,
        { status: record.status },
      );
    }
    const state = await this.deps.queue.jobState(runId);
    if (state && (LIVE_JOB_STATES as readonly string[]).includes(state)) {
      throw new RefusedError(
        'conflict',
        'RUN_STILL_QUEUED',
        `The run's job is still ${state}; retry it once it has ended.`,
        {
          jobState: state,
        },
      );
    }
    const reset = await this.deps.writes.resetForRetry(runId);
    if (!reset)
      throw new RefusedError('conflict', 'RUN_NOT_FAILED', 'The run is no longer failed (retried already?).');
    await this.deps.queue.removeFinished(runId);
    if (await this.deps.queue.isPaused()) await this.deps.writes.setFields(runId, { queuePaused: true });
    try {
      await this.deps.queue.enqueue(runId, requestOf(record), { trace: run.trace });
    } catch (err) {
      this.deps.log.error({ err, runId }, 'could not enqueue the retried run');
      await this.deps.writes.restoreFailed(record, run.owner);
      throw new RefusedError(
        'unavailable',
        'QUEUE_UNAVAILABLE',
        'The run queue is unavailable; try again shortly.',
      );
    }
    this.deps.log.info(
      { runId, keptSteps: reset.keptSteps.length, removedSteps: reset.removedSteps },
      'run retried',
    );
    return { record: (await this.deps.store.get(runId))?.record ?? record, reset };
  }

  /**
   * The operators' queue dashboard retries a failed job itself: the run is reset first so the retry reuses its
   * journal. Returns the job's state (a completed job is not retried: its run is not failed).
   */
  async prepareJobRetry(runId: string): Promise<string | undefined> {
    const state = await this.deps.queue.jobState(runId);
    if (state === 'failed') await this.deps.writes.resetForRetry(runId);
    return state;
  }

  /** The dashboard removed a job that had not finished: its run is cancelled. */
  async jobRemoved(runId: string): Promise<boolean> {
    const state = await this.deps.queue.jobState(runId);
    if (state === undefined || state === 'completed' || state === 'failed' || state === 'active')
      return false;
    const run = await this.deps.store.get(runId);
    if (!run || this.deps.store.isTerminal(run.record.status)) return false;
    await this.deps.writes.requestCancel(runId);
    await this.finishAs(runId, () => this.deps.writes.finishCancelled(run.record));
    return true;
  }

  /** Runs a finishing write (which counts the finish in the queue's throughput), then notifies the webhook. */
  private async finishAs(
    runId: string,
    write: () => Promise<Finished>,
    event: RunEventInput = { type: 'run.cancelled' },
  ): Promise<Finished> {
    const ended = await write();
    if (ended !== 'finished') return ended;
    await this.webhooks.notify(runId, event);
    return ended;
  }
}

/** Why a run whose job ended without it is abandoned. */
function orphanReason(end: JobEnd): string {
  if (end.kind === 'failed') return `The run's job failed: ${end.reason}`;
  if (end.kind === 'completed') return "The run's job completed without finishing the run.";
  return "The run's job is gone (removed, or lost with Redis data).";
}

/** A run over one of its tenant's limits: 429 with when to try again. */
function tenantLimitRefusal(limited: Extract<Inserted, { limited: string }>): RefusedError {
  const what = {
    inflight: 'runs in flight',
    perMinute: 'runs per minute',
    tokensPerDay: 'tokens per day',
  }[limited.limited];
  const retryAfterSeconds =
    limited.limited === 'tokensPerDay'
      ? Math.ceil(
          (Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`) + 86_400_000 - Date.now()) / 1000,
        )
      : limited.limited === 'perMinute'
        ? Math.max(1, Math.ceil(limited.retryAfterMs / 1000))
        : INFLIGHT_RETRY_AFTER_SECONDS;
  return new RefusedError('limited', 'TENANT_LIMIT', `This API key has reached its limit of ${what}.`, {
    limit: limited.limited,
    retryAfterSeconds,
  });
}

/** When a tenant at its in-flight limit may try again: a hint, since a run of its own has to finish first. */
const INFLIGHT_RETRY_AFTER_SECONDS = 5;

/** The request a stored run was created from (what a retry enqueues again). */
function requestOf(record: RunRecord): RunRequest {
  return {
    team: record.team,
    pattern: record.pattern,
    input: record.input,
    ...(record.teamVersion ? { teamVersion: record.teamVersion } : {}),
    ...(Object.keys(record.options).length > 0 ? { options: record.options } : {}),
    // A variant the rollout assigned is not in the client's options; the retry executes it all the same.
    ...(record.variant && record.variant !== BASE_VARIANT && record.options.variant === undefined
      ? { options: { ...record.options, variant: record.variant } }
      : {}),
    ...(record.metadata ? { metadata: record.metadata } : {}),
    ...(record.webhook ? { webhook: record.webhook } : {}),
  };
}
