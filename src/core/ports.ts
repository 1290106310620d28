import type { HumanAnswer, PendingInput } from './run.js';
/** How a run's job ended: failed for good (with BullMQ's reason), completed, or gone from the queue. */
export type JobEnd = { kind: 'failed'; reason: string } | { kind: 'completed' } | { kind: 'gone' };

/**
 * The queue as the run lifecycle uses it: put a run's job on the queue, take a job no worker holds off it, and ask
 * about a job. src/queue/ implements it over BullMQ; tests may use an in-memory one.
 */
export interface RunQueue<Request> {
  /**
   * Adds the job of run `runId` (job id = run id), carrying the caller's trace context; with `trace`, the job
   * continues that trace instead (a retry stays in its run's trace) and links to the caller's.
   */
  enqueue(runId: string, request: Request, options?: { trace?: Record<string, string> }): Promise<void>;
  /** Removes the job when no worker holds it; false when a worker does (or there is no job). */
  removeWaiting(runId: string): Promise<boolean>;
  /** Removes the job whatever its state except active (a finished job before a retry re-adds it). */
  removeFinished(runId: string): Promise<void>;
  /** The job's state (`waiting`, `active`, `delayed`, `failed`, `completed`, …), or undefined without a job. */
  jobState(runId: string): Promise<string | undefined>;
  isPaused(): Promise<boolean>;
  /** The runs whose jobs wait or execute, with the team their request names (when it is a run job at all). */
  liveJobs(): Promise<{ runId: string; team: string | undefined }[]>;
  /** Moves a run's job that waits for a later time (a run waiting for human input) to run now; false if it does not wait. */
  wake(runId: string): Promise<boolean>;
  /** Of `runIds`, those whose job has ended for good or is gone (runs whose job is still in play are left out). */
  endedJobs(runIds: readonly string[]): Promise<Map<string, JobEnd>>;
  /** How many of `replicas` replicas hold the jobs added so far, waiting at most `timeoutMs`. */
  replicated(replicas: number, timeoutMs: number): Promise<number>;
}

/**
 * How a run closes one of its human-input requests itself when it expires, in one step with the answers people
 * send (whichever is first wins): returns the answer that closed the request — the default decision (reject)
 * when the expiry won, or a person's answer that arrived first. The run lifecycle implements it over Redis.
 */
export interface InputPort {
  expire(runId: string, request: PendingInput): Promise<HumanAnswer>;
}

/** One webhook delivery: the signed body is built once, so every attempt sends the same bytes. */
export interface WebhookDelivery {
  /** Delivery id: the body's `id`, the same on every attempt (receivers deduplicate by it). */
  id: string;
  runId: string;
  url: string;
  type: string;
  /** The JSON body `{ id, type, runId, createdAt, data }` as sent. */
  body: string;
}

/** Hands deliveries to the webhook queue (src/queue/webhooks-queue.ts). */
export interface WebhookPort {
  deliver(delivery: WebhookDelivery): Promise<void>;
}
