import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RunRequest } from '../runs/schema.js';
import {
  ATTR_BATON_PATTERN,
  ATTR_BATON_RUN_ID,
  ATTR_BATON_TEAM,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
} from '../telemetry/attributes.js';
import { injectTraceContext, SpanKind, withSpan } from '../telemetry/tracing.js';
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
  await withSpan(
    `send ${RUNS_QUEUE}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        [ATTR_MESSAGING_SYSTEM]: 'bullmq',
        [ATTR_MESSAGING_OPERATION_TYPE]: 'send',
        [ATTR_MESSAGING_DESTINATION_NAME]: RUNS_QUEUE,
        [ATTR_MESSAGING_MESSAGE_ID]: runId,
        [ATTR_BATON_RUN_ID]: runId,
        [ATTR_BATON_PATTERN]: request.pattern,
        [ATTR_BATON_TEAM]: request.team,
      },
    },
    async () => {
      await queue.add('run', { runId, request, trace: injectTraceContext() }, { jobId: runId });
    },
  );
}
