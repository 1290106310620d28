import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type EvaluationLog, loggedEvaluationSchema } from '../../runs/evaluation-log.js';
import { type FeedbackLog, feedbackAggregateSchema, loggedFeedbackSchema } from '../../runs/feedback-log.js';
import { patternSchema } from '../../runs/schema.js';
import { type Caller, seesAllRuns } from '../auth.js';
import { errorEnvelopeSchema } from '../errors.js';

const isoTime = z.iso.datetime({ offset: true }).describe('An ISO 8601 time, e.g. 2026-11-30T00:00:00Z.');

/** The feedback log (kept beyond run retention): listed and aggregated by team, variant, pattern and day. */
export const feedbackRoutes =
  (log: FeedbackLog, evaluations: EvaluationLog): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/evaluations',
      {
        schema: {
          operationId: 'listEvaluations',
          summary: 'List online evaluation scores',
          description:
            'The scores online evaluation gave finished runs (BATON_ONLINE_EVAL_RATE), kept beyond the runs (BATON_LLMOPS_RETENTION_SECONDS) with each run’s team, pattern, variant and rollout subject. Newest first. Clients see scores of their own runs; operators and admins see all.',
          tags: ['runs'],
          querystring: z
            .object({
              team: z.string().min(1).max(200).optional(),
              scorer: z.string().min(1).max(100).optional(),
              since: isoTime.optional(),
              until: isoTime.optional(),
              limit: z.coerce.number().int().min(1).max(10_000).default(1000),
            })
            .strict(),
          response: { 200: z.object({ items: z.array(loggedEvaluationSchema) }), 400: errorEnvelopeSchema },
        },
      },
      async (request) => {
        const caller = request.caller as Caller;
        return {
          items: await evaluations.list({
            ...request.query,
            ...(seesAllRuns(caller) ? {} : { owner: caller.keyId }),
          }),
        };
      },
    );

    app.get(
      '/v1/feedback',
      {
        schema: {
          operationId: 'listFeedback',
          summary: 'List and aggregate feedback',
          description:
            'Feedback on runs, kept beyond the runs themselves (BATON_LLMOPS_RETENTION_SECONDS) with the run’s team, pattern, variant and versions, and its input and output when the operator allows content (BATON_FEEDBACK_CONTENT). Newest first; `aggregates` count and average every match by team, variant, pattern and UTC day. Clients see feedback on their own runs; operators and admins see all.',
          tags: ['runs'],
          querystring: z
            .object({
              team: z.string().min(1).max(200).optional(),
              variant: z.string().min(1).max(200).optional(),
              pattern: patternSchema.optional(),
              since: isoTime.optional(),
              until: isoTime.optional(),
              limit: z.coerce.number().int().min(1).max(1000).default(100),
            })
            .strict(),
          response: {
            200: z.object({
              items: z.array(loggedFeedbackSchema),
              aggregates: z.array(feedbackAggregateSchema),
            }),
            400: errorEnvelopeSchema,
          },
        },
      },
      async (request) => {
        const caller = request.caller as Caller;
        return log.list({ ...request.query, ...(seesAllRuns(caller) ? {} : { owner: caller.keyId }) });
      },
    );
  };
