import { type Job, UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import { AttemptSupersededError, RunInterruptedError, RunWaitingError, toErrorInfo } from '../core/errors.js';
import type { ErrorInfo } from '../core/run.js';
import { execute } from '../engine/index.js';
import type { StartDecision } from '../lifecycle/lifecycle.js';
import type { RunJobData } from '../queue/runs-queue.js';
import { openRedisJournal, type RunJournal } from '../runs/journal.js';
import type { RunJobSpan } from '../telemetry/job-spans.js';
import type { ActiveAttempt, ActiveAttempts } from './attempts.js';
import type { WorkerDeps } from './deps.js';

/** A failed run fails its job too (no job retry: the run's outcome is final), so queue tools show it failed. */
const failJob = (error: ErrorInfo | undefined) =>
  new UnrecoverableError(`${error?.code ?? 'RUN_FAILED'}: ${error?.message ?? 'the run failed'}`);

export interface WorkerScope {
  id: string;
  attempts: ActiveAttempts;
  drain: AbortSignal;
}

/**
 * How a job's processing ended: done (the job completes or fails as the run did), handed over, or put aside
 * (delayed) while the run waits for human input.
 */
export type JobEnding = 'done' | 'handed-over' | 'superseded' | 'waiting';

/**
 * One run job: register the attempt (so a cancel from now on reaches it), start the run through the lifecycle,
 * execute it, record the outcome.
 */
export async function processRunJob(
  deps: WorkerDeps,
  worker: WorkerScope,
  job: Job<RunJobData>,
  token: string | undefined,
  span: RunJobSpan,
): Promise<JobEnding> {
  const { runId } = job.data;
  const log = deps.log.child({ runId });
  const attempt = worker.attempts.register(runId);
  // Taking over from an attempt of this very worker: when that one ends, BullMQ stops renewing the job's lock
  // (it tracks locks by job id), so this attempt renews its own.
  const keepLock = attempt.tookOver ? renewLock(job, token, deps.settings.lockMs, log) : undefined;
  try {
    const start = await deps.lifecycle.start(runId);
    if (start.kind === 'run')
      return await executeRun(deps, { job, token, span, log, attempt, start, worker });
    if (start.kind === 'superseded') {
      log.warn('a newer attempt owns the run; leaving it to that one');
      return 'superseded';
    }
    if (start.kind === 'gone') log.warn('job for a run with no record (expired or discarded); dropping it');
    // A duplicate delivery of a finished run leaves the job in the state the run ended in.
    if (start.kind === 'finished' && start.record.status === 'failed') throw failJob(start.record.error);
    return 'done';
  } finally {
    keepLock?.stop();
    worker.attempts.release(attempt);
  }
}

interface Execution {
  job: Job<RunJobData>;
  token: string | undefined;
  span: RunJobSpan;
  log: Logger;
  attempt: ActiveAttempt;
  start: Extract<StartDecision, { kind: 'run' }>;
  worker: WorkerScope;
}

/**
 * Executes a started run and finishes it with the attempt's fencing token. An attempt that a newer one replaced
 * (its lock was lost) stops without writing; a drained worker hands the run back to the queue.
 */
async function executeRun(deps: WorkerDeps, x: Execution): Promise<JobEnding> {
  const { runId, request } = x.job.data;
  const { start, log } = x;
  x.span.attempt(start.attempt);
  log.info(
    { attempt: start.attempt, worker: x.worker.id },
    start.attempt > 1 ? 'resuming run' : 'starting run',
  );
  try {
    const onBehalf = deps.onBehalfOf ?? ((_tenant, fn) => fn());
    const outcome = await onBehalf(start.owner, async () =>
      execute(
        {
          runId,
          request,
          attempt: start.attempt,
          journal: stopOnSupersede(
            await openRedisJournal(deps.steps.redis, deps.settings.prefix, runId, {
              attempt: start.attempt,
              stepEvents: true,
              stored: start.journal,
            }),
            x.attempt,
          ),
          events: deps.steps.events,
          signal: x.attempt.controller.signal,
          drain: x.worker.drain,
          firstStartedAt: Date.parse(start.startedAt),
          inputs: deps.lifecycle.inputs,
        },
        deps.engine,
      ),
    );
    const ended = await deps.lifecycle.finish(runId, outcome, start.startedAt, start.attempt, start.owner);
    if (ended === 'superseded') throw new AttemptSupersededError();
    if (ended !== 'finished') {
      log.info({ status: outcome.status, ended }, 'the run was finished elsewhere; outcome not written');
      return 'done';
    }
    log.info({ status: outcome.status, usage: outcome.usage }, 'run finished');
    // After the run's record is final: whatever happens here cannot change or delay its outcome.
    await deps
      .runFinished?.({ runId, team: request.team, teamVersion: request.teamVersion, status: outcome.status })
      .catch((err: unknown) => log.warn({ err }, 'the finished-run hook failed'));
    if (outcome.status === 'failed') throw failJob(outcome.error);
    return 'done';
  } catch (err) {
    if (err instanceof RunWaitingError) return await putAside(deps, x, err);
    if (!(err instanceof RunInterruptedError)) throw err;
    return handOver(x, err);
  }
}

/**
 * The run waits for a person: its requests are recorded (the run `waiting`) and its job leaves the active set as
 * a delayed job until the earliest expiry or the deadline, so it holds no worker slot and no lock. An answer
 * promotes the job (`RunQueue.wake`); the next attempt, on any worker, replays the journal up to the answer.
 */
async function putAside(deps: WorkerDeps, x: Execution, err: RunWaitingError): Promise<JobEnding> {
  const { runId } = x.job.data;
  const waited = await deps.lifecycle.inputs.wait(runId, x.start.attempt, err.requests);
  if (waited === 'superseded') return 'superseded';
  if (waited === 'finished' || waited === 'gone') return 'done';
  // Answered while this attempt was stopping: go on at once, through the delayed set like any wake-up.
  await x.job.moveToDelayed(waited === 'answered' ? Date.now() : err.wakeAt, x.token);
  x.log.info(
    { requests: err.requests.map((r) => r.id), wakeAt: new Date(err.wakeAt).toISOString() },
    'run waiting for human input',
  );
  if (waited === 'waiting') await deps.lifecycle.inputs.wakeIfAnswered(runId);
  return 'waiting';
}

/** An interrupted attempt: back to the queue when draining; nothing to hand back when another owns the job. */
async function handOver(x: Execution, err: RunInterruptedError): Promise<JobEnding> {
  if (err instanceof AttemptSupersededError) {
    x.log.warn(
      { attempt: x.start.attempt },
      'attempt superseded (its job lock was lost); stopping without writing',
    );
    return 'superseded';
  }
  x.log.info('worker shutting down; handing the run back to the queue');
  try {
    await x.job.moveToWait(x.token);
  } catch (moveErr) {
    // The lock was lost meanwhile: the stalled-job check hands the job back instead.
    x.log.warn({ err: toErrorInfo(moveErr) }, 'could not hand the job back; it returns when found stalled');
  }
  return 'handed-over';
}

/**
 * The journal of an attempt that stops as a whole once it learns a newer attempt owns the run: concurrent
 * branches are aborted too, instead of each finding out at its own next write.
 */
function stopOnSupersede(journal: RunJournal, attempt: ActiveAttempt): RunJournal {
  const stopping = async <T>(write: () => Promise<T>): Promise<T> => {
    try {
      return await write();
    } catch (err) {
      if (err instanceof AttemptSupersededError) attempt.controller.abort(err);
      throw err;
    }
  };
  const { steps } = journal;
  return {
    get: (key) => journal.get(key),
    entries: () => journal.entries(),
    put: (key, entry) => stopping(() => journal.put(key, entry)),
    assertCurrent: () => stopping(async () => journal.assertCurrent?.()),
    ...(steps
      ? {
          steps: {
            announce: (event) => stopping(() => steps.announce(event)),
            emit: (event) => stopping(() => steps.emit(event)),
            complete: (key, entry, event) => stopping(() => steps.complete(key, entry, event)),
            flush: () => stopping(() => steps.flush()),
          },
        }
      : {}),
  };
}

/** Renews the job's lock every half lock period until stopped. */
function renewLock(job: Job<RunJobData>, token: string | undefined, lockMs: number, log: Logger) {
  const timer = setInterval(() => {
    if (!token) return;
    job.extendLock(token, lockMs).catch((err: unknown) => {
      log.warn({ err: toErrorInfo(err) }, 'could not renew the job lock');
    });
  }, lockMs / 2);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
