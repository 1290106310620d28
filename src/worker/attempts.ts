import { AttemptSupersededError } from '../core/errors.js';

/** One execution of a run on this worker: the controller that aborts it (cancel, lock lost, shutdown). */
export interface ActiveAttempt {
  readonly runId: string;
  readonly controller: AbortController;
  /** This worker took the run's job again while an earlier attempt of its own still ran (its lock was lost). */
  readonly tookOver: boolean;
}

/**
 * The run attempts executing on this worker. An attempt is registered as soon as its job is taken — before its run
 * is read — so that a cancel published from then on always finds it; a second delivery of the same run to this
 * worker supersedes the attempt still registered for it.
 */
export class ActiveAttempts {
  private readonly byRun = new Map<string, ActiveAttempt>();

  register(runId: string): ActiveAttempt {
    const previous = this.byRun.get(runId);
    previous?.controller.abort(new AttemptSupersededError('its job was delivered again'));
    const attempt: ActiveAttempt = {
      runId,
      controller: new AbortController(),
      tookOver: previous !== undefined,
    };
    this.byRun.set(runId, attempt);
    return attempt;
  }

  /** Forgets `attempt` (not a newer attempt at the same run). */
  release(attempt: ActiveAttempt): void {
    if (this.byRun.get(attempt.runId) === attempt) this.byRun.delete(attempt.runId);
  }

  /** Aborts the run's attempt with `reason`, once; true when there was one to abort. */
  abort(runId: string, reason: Error): boolean {
    const attempt = this.byRun.get(runId);
    if (!attempt || attempt.controller.signal.aborted) return false;
    attempt.controller.abort(reason);
    return true;
  }

  abortAll(reason: () => Error): void {
    for (const attempt of this.byRun.values()) attempt.controller.abort(reason());
  }

  runIds(): string[] {
    return [...this.byRun.keys()];
  }
}
