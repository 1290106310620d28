import {
  ATTR_BATON_LINK,
  ATTR_BATON_PATTERN,
  ATTR_BATON_RUN_ATTEMPT,
  ATTR_BATON_RUN_HANDED_OVER,
  ATTR_BATON_RUN_ID,
  ATTR_BATON_RUN_RESUMED,
  ATTR_BATON_TEAM,
  ATTR_BATON_WORKER_ID,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
} from './attributes.js';
import {
  continueTrace,
  injectTraceContext,
  linkFromCarrier,
  SpanKind,
  withRunContext,
  withSpan,
} from './tracing.js';

/**
 * The messaging spans of run jobs: the producer span around adding a job (its context travels in the job) and
 * the consumer span around processing one, which continues the trace of the request that created the run.
 */

export interface RunJobInfo {
  queue: string;
  runId: string;
  pattern: string;
  team: string;
}

function messagingAttributes(info: RunJobInfo, operation: 'send' | 'process') {
  return {
    [ATTR_MESSAGING_SYSTEM]: 'bullmq',
    [ATTR_MESSAGING_OPERATION_TYPE]: operation,
    [ATTR_MESSAGING_DESTINATION_NAME]: info.queue,
    [ATTR_MESSAGING_MESSAGE_ID]: info.runId,
    [ATTR_BATON_RUN_ID]: info.runId,
    [ATTR_BATON_PATTERN]: info.pattern,
    [ATTR_BATON_TEAM]: info.team,
  };
}

/** Runs `send` (which adds the job) in a producer span; `send` gets the trace context to put in the job. */
export function produceRunJob<T>(
  info: RunJobInfo,
  send: (trace: Record<string, string>) => Promise<T>,
): Promise<T> {
  return withSpan(
    `send ${info.queue}`,
    { kind: SpanKind.PRODUCER, attributes: messagingAttributes(info, 'send') },
    () => send(injectTraceContext()),
  );
}

/** What the job processor tells its span as it learns it. */
export interface RunJobSpan {
  /** The worker attempt at the run (more than 1 after a crash, a stall or a hand-over). */
  attempt(attempt: number): void;
  /** The run went back to the queue for another worker (a drain), which is not a failure. */
  handedOver(): void;
}

/**
 * Runs `process` in the consumer span of a run job and with the run context (every span and log line inside
 * carries the run id). The job continues the trace of the request that created the run, and links to it: each
 * attempt is its own consumer span in the same trace.
 */
export function consumeRunJob<T>(
  info: RunJobInfo & {
    trace: Record<string, string> | undefined;
    /** Requests that enqueued the run again (an operator's retry): linked, while the run's trace continues. */
    links?: readonly Record<string, string>[] | undefined;
    workerId: string;
  },
  process: (span: RunJobSpan) => Promise<T>,
): Promise<T> {
  const { parent, links: enqueued } = continueTrace(info.trace);
  const links = [
    ...enqueued,
    ...(info.links ?? []).flatMap((carrier) => {
      const link = linkFromCarrier(carrier, { [ATTR_BATON_LINK]: 'retry' });
      return link ? [link] : [];
    }),
  ];
  const options = {
    kind: SpanKind.CONSUMER,
    parent,
    links,
    attributes: { ...messagingAttributes(info, 'process'), [ATTR_BATON_WORKER_ID]: info.workerId },
  };
  const run = { runId: info.runId, pattern: info.pattern, team: info.team };
  return withRunContext(run, () =>
    withSpan(`process ${info.queue}`, options, (span) =>
      process({
        attempt(attempt) {
          span.setAttributes({ [ATTR_BATON_RUN_ATTEMPT]: attempt, [ATTR_BATON_RUN_RESUMED]: attempt > 1 });
        },
        handedOver() {
          span.setAttribute(ATTR_BATON_RUN_HANDED_OVER, true);
        },
      }),
    ),
  );
}
