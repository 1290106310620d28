import type {} from '@fastify/rate-limit';
import type {} from '@fastify/sse';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { runEventSchema } from '../../core/events.js';
import { humanAnswerSchema } from '../../core/run.js';
import type { FeedbackLog } from '../../runs/feedback-log.js';
import {
  type FeedbackEntry,
  feedbackEntrySchema,
  feedbackSchema,
  inputAnswerSchema,
  runIdSchema,
  runRecordSchema,
  runRequestSchema,
  runStatusSchema,
} from '../../runs/schema.js';
import { type StoredRun, UnreadableRunError } from '../../runs/store.js';
import {
  ATTR_BATON_PATTERN,
  ATTR_BATON_RUN_ID,
  ATTR_BATON_STEP_KEY,
  ATTR_BATON_TEAM,
} from '../../telemetry/attributes.js';
import { annotateRequestSpan } from '../../telemetry/sdk.js';
import {
  currentTraceId,
  extractTraceContext,
  injectTraceContext,
  withSpan,
} from '../../telemetry/tracing.js';
import { type Caller, seesAllRuns } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, errorEnvelopeSchema, notFound } from '../errors.js';
import { followRun, lastEventIdSchema } from '../run-events.js';
import type { StreamSlots } from '../streams.js';

const runIdParams = z.object({ id: runIdSchema });
const errors = { 400: errorEnvelopeSchema, 401: errorEnvelopeSchema, 404: errorEnvelopeSchema };

export const runRoutes =
  (deps: ApiDeps, streams: StreamSlots, feedbackLog: FeedbackLog): FastifyPluginAsyncZod =>
  async (app) => {
    const { store, lifecycle } = deps;

    /**
     * The run if this caller may see it; 404 otherwise (a client never learns another key's run exists). With
     * `details: false`, the record alone (no steps, feedback, scores or deliveries).
     */
    const visibleRun = async (
      caller: Caller,
      id: string,
      options: { details?: boolean } = {},
    ): Promise<StoredRun> => {
      const sees = (owner: string) => seesAllRuns(caller) || owner === caller.keyId;
      let run: StoredRun | undefined;
      try {
        run = await store.get(id, options);
      } catch (err) {
        if (!(err instanceof UnreadableRunError)) throw err;
        if (!sees(err.owner)) throw notFound(`Run "${id}"`);
        app.log.error({ err: err.toJSON(), runId: id }, 'a stored run record cannot be read');
        throw new ApiError(500, err.code, err.message);
      }
      if (!run || !sees(run.owner)) throw notFound(`Run "${id}"`);
      return run;
    };

    app.post(
      '/v1/runs',
      {
        schema: {
          operationId: 'createRun',
          summary: 'Create a run',
          description:
            'Accepts a run and queues it (202). With an `Idempotency-Key` header, repeating the same request returns the first run (200) instead of creating another. `options.model` may choose only models the operator allows (400 `MODEL_NOT_ALLOWED`); over a limit of its API key (BATON_TENANT_LIMITS) the run is refused with 429 and `Retry-After`.',
          tags: ['runs'],
          headers: z
            .object({
              'idempotency-key': z.string().min(1).max(255).optional(),
              'baton-subject': z
                .string()
                .min(1)
                .max(512)
                .optional()
                .describe(
                  'Sticky A/B assignment key (e.g. a user id): the same subject always gets the same variant of a team rollout. Default: metadata.subject.',
                ),
            })
            .loose(),
          body: runRequestSchema,
          response: {
            200: runRecordSchema,
            202: runRecordSchema,
            ...errors,
            409: errorEnvelopeSchema,
            413: errorEnvelopeSchema,
            429: errorEnvelopeSchema.describe(
              'Over a limit of this API key (TENANT_LIMIT); see Retry-After.',
            ),
            503: errorEnvelopeSchema,
          },
        },
      },
      async (request, reply) => {
        const caller = request.caller as Caller;
        const runId = lifecycle.newRunId();
        annotateRequestSpan(request, {
          [ATTR_BATON_RUN_ID]: runId,
          [ATTR_BATON_PATTERN]: request.body.pattern,
          [ATTR_BATON_TEAM]: request.body.team,
        });
        const { record, created } = await lifecycle.create(
          {
            request: request.body,
            owner: caller.keyId,
            idempotencyKey: request.headers['idempotency-key'],
            subject: request.headers['baton-subject'],
            traceId: currentTraceId(),
            trace: injectTraceContext(),
          },
          runId,
        );
        if (!created) return reply.code(200).header('idempotent-replayed', 'true').send(record);
        request.log.info(
          { runId, team: record.team, teamVersion: record.teamVersion, pattern: record.pattern },
          'run accepted',
        );
        return reply.code(202).header('location', `/v1/runs/${record.id}`).send(record);
      },
    );

    app.get(
      '/v1/runs',
      {
        schema: {
          operationId: 'listRuns',
          summary: 'List runs',
          description: 'Newest first. Clients see their own runs; operators and admins see all.',
          tags: ['runs'],
          querystring: z
            .object({
              status: runStatusSchema.optional(),
              limit: z.coerce.number().int().min(1).max(100).default(20),
              cursor: z.string().max(512).optional(),
            })
            .strict(),
          response: {
            200: z.object({ items: z.array(runRecordSchema), nextCursor: z.string().optional() }),
            ...errors,
          },
        },
      },
      async (request) => {
        const caller = request.caller as Caller;
        const { status, limit, cursor } = request.query;
        return store.list({
          limit,
          ...(status ? { status } : {}),
          ...(cursor ? { cursor } : {}),
          ...(seesAllRuns(caller) ? {} : { owner: caller.keyId }),
        });
      },
    );

    app.get(
      '/v1/runs/:id',
      {
        schema: {
          operationId: 'getRun',
          summary: 'Get a run',
          description: 'The run record: status, output, usage, per-step timing and tokens, trace id.',
          tags: ['runs'],
          params: runIdParams,
          response: { 200: runRecordSchema, ...errors },
        },
      },
      async (request) => (await visibleRun(request.caller as Caller, request.params.id)).record,
    );

    app.post(
      '/v1/runs/:id/cancel',
      {
        schema: {
          operationId: 'cancelRun',
          summary: 'Cancel a run',
          description:
            'A queued run is cancelled at once; a running one is aborted by its worker (its in-flight model call included) within about a second. 409 when the run has already finished.',
          tags: ['runs'],
          params: runIdParams,
          response: { 202: runRecordSchema, ...errors, 409: errorEnvelopeSchema },
        },
      },
      async (request, reply) => {
        const run = await visibleRun(request.caller as Caller, request.params.id);
        return reply.code(202).send(await lifecycle.cancel(run));
      },
    );

    app.post(
      '/v1/runs/:id/input',
      {
        schema: {
          operationId: 'answerRunInput',
          summary: 'Answer a pending request of a waiting run',
          description:
            "Approves or rejects a pending approval (`decision`, optionally edited `arguments` and a `comment`), or answers a pending question (`answer`). The answer is journaled once, with the answering key's id, and the run resumes on any worker. The run's owner and operators/admins may answer. 409 when the request is not pending (answered already, expired, or unknown) or the run has finished.",
          tags: ['runs'],
          params: runIdParams,
          body: inputAnswerSchema,
          response: {
            202: z.object({ runId: z.string(), answer: humanAnswerSchema }),
            ...errors,
            409: errorEnvelopeSchema,
          },
        },
      },
      async (request, reply) => {
        const caller = request.caller as Caller;
        const run = await visibleRun(caller, request.params.id);
        const answer = await lifecycle.inputs.answer(run, request.body, { keyId: caller.keyId });
        return reply.code(202).send({ runId: run.record.id, answer });
      },
    );

    app.post(
      '/v1/runs/:id/feedback',
      {
        schema: {
          operationId: 'sendRunFeedback',
          summary: 'Send feedback on a run',
          description:
            'Stores a quality signal with the run (optionally about one step, optionally with the answer the user expected) and in the feedback log that outlives the run (`GET /v1/feedback`), and emits it as a `baton.feedback` span and log line in the run’s own trace, so it lands next to the trace in Application Insights or any OTLP backend.',
          tags: ['runs'],
          params: runIdParams,
          body: feedbackSchema,
          response: { 201: feedbackEntrySchema, ...errors, 409: errorEnvelopeSchema },
        },
      },
      async (request, reply) => {
        const run = await visibleRun(request.caller as Caller, request.params.id);
        const { step } = request.body;
        if (step && !run.record.steps.some((s) => s.key === step)) {
          throw new ApiError(400, 'UNKNOWN_STEP', `Run "${run.record.id}" has no step "${step}".`, {
            steps: run.record.steps.map((s) => s.key),
          });
        }
        const entry: FeedbackEntry = { ...request.body, at: new Date().toISOString() };
        await store.addFeedback(run.record.id, entry);
        await feedbackLog.add(run.record, run.owner, entry);
        await withSpan(
          'baton.feedback',
          {
            parent: extractTraceContext(run.trace),
            attributes: {
              [ATTR_BATON_RUN_ID]: run.record.id,
              [ATTR_BATON_PATTERN]: run.record.pattern,
              [ATTR_BATON_TEAM]: run.record.team,
              'baton.feedback.score': entry.score,
              ...(step ? { [ATTR_BATON_STEP_KEY]: step } : {}),
              ...(entry.comment && deps.config.telemetry.captureContent
                ? { 'baton.feedback.comment': entry.comment }
                : {}),
            },
          },
          async () => {
            // Logged inside the feedback span: the line carries the run's trace id.
            request.log.info({ runId: run.record.id, score: entry.score, step }, 'feedback received');
          },
        );
        return reply.code(201).send(entry);
      },
    );

    app.get(
      '/v1/runs/:id/events',
      {
        sse: 'manual',
        config: { rateLimit: false },
        schema: {
          operationId: 'streamRunEvents',
          summary: 'Stream a run’s events (SSE)',
          description:
            'Server-sent events: every event so far, then live ones, ending after the terminal event (run.completed, run.failed or run.cancelled). Reconnect with `Last-Event-ID` to resume after the last event seen.',
          tags: ['runs'],
          params: runIdParams,
          headers: z.object({ 'last-event-id': lastEventIdSchema.optional() }).loose(),
          response: {
            200: {
              description:
                'A stream of run events: each message has `id` (resume with Last-Event-ID), `event` (the event type) and `data` (the event as JSON).',
              content: { 'text/event-stream': { schema: runEventSchema } },
            },
            ...errors,
            429: errorEnvelopeSchema,
          },
        },
      },
      async (request, reply) => {
        const caller = request.caller as Caller;
        // Following needs the run's status only: its steps and feedback are not read.
        const run = await visibleRun(caller, request.params.id, { details: false });
        const release = streams.acquire(caller.keyId);
        reply.sse.onClose(release);
        reply.header('cache-control', 'no-cache');
        reply.header('x-accel-buffering', 'no');
        const follow = followRun(deps, run, request.headers['last-event-id'] ?? '0');
        reply.sse.onClose(() => follow.stop());
        // The stream is open from here (headers out), whether or not the run has events yet.
        reply.sse.sendHeaders();
        reply.raw.flushHeaders();
        try {
          await reply.sse.send(follow.events);
        } finally {
          follow.stop();
          release();
        }
      },
    );
  };
