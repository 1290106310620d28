import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RunRequest } from '../runs/schema.js';
import { RUNS_QUEUE } from './names.js';

/** What a job carries: the run request and the W3C trace context of the request that created it. */
export interface RunJobData {
  runId: string;
  request: RunRequest;
  trace: Record<string, string>;
}

export interface QueueSettings {
  prefix: string;
  /** Whole-job attempts: a crashed or stalled worker, or an infrastructure error, costs one. */
  attempts: number;
  retentionSeconds: number;
}

export function createRunsQueue(connection: Redis, settings: QueueSettings): Queue<RunJobData> {
  return new Queue<RunJobData>(RUNS_QUEUE, {
    connection,
    prefix: settings.prefix,
    defaultJobOptions: {
      attempts: settings.attempts,
      backoff: { type: 'exponential', delay: 1_000 },
      removeOnComplete: { age: settings.retentionSeconds, count: 10_000 },
      removeOnFail: { age: settings.retentionSeconds },
    },
  });
}

/** Enqueues a run as job `runId` inside a producer span whose context travels in the job. */
export async function enqueueRun(
  queue: Queue<RunJobData>,
  runId: string,
  request: RunRequest,
): Promise<void> {
  const tracer = trace.getTracer('baton');
  await tracer.startActiveSpan(
    `send ${RUNS_QUEUE}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'bullmq',
        'messaging.operation.type': 'send',
        'messaging.destination.name': RUNS_QUEUE,
        'messaging.message.id': runId,
        'baton.run.id': runId,
        'baton.pattern': request.pattern,
        'baton.team': request.team,
      },
    },
    async (span) => {
      try {
        const carrier: Record<string, string> = {};
        propagation.inject(context.active(), carrier);
        await queue.add('run', { runId, request, trace: carrier }, { jobId: runId });
      } finally {
        span.end();
      }
    },
  );
}
