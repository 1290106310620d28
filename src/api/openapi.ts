import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import type { RouteOptions } from 'fastify';
import type { createJsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { runEventSchema } from '../core/events.js';
import {
  feedbackEntrySchema,
  feedbackSchema,
  runRecordSchema,
  runRequestSchema,
  webhookDeliverySchema,
} from '../runs/schema.js';
import { errorEnvelopeSchema } from './errors.js';

/**
 * The schemas the OpenAPI document names as components (`#/components/schemas/<id>`), so generated clients get one
 * type per contract — the run record, the run request, the one union of run events — instead of a copy per route.
 */
export function openApiSchemas() {
  const registry = z.registry<{ id: string; description?: string; examples?: unknown[] }>();
  registry.add(runRequestSchema, {
    id: 'RunRequest',
    description: 'A run to create: team, pattern, input, options.',
    examples: [
      {
        team: 'news-desk',
        pattern: 'concurrent',
        input: 'Contoso Motors raised its guidance and its shares rose; supplier Fabrikam Industries warned.',
        options: { deadlineMs: 60_000, maxModelCalls: 20 },
        metadata: { ticket: 'DEMO-1' },
      },
    ],
  });
  registry.add(runRecordSchema, {
    id: 'RunRecord',
    description: 'A run: status, output, usage, steps, trace id.',
  });
  registry.add(runEventSchema, {
    id: 'RunEvent',
    description: 'An event of a run, as the SSE stream and webhooks deliver it; `type` tells which.',
  });
  registry.add(webhookDeliverySchema, {
    id: 'WebhookDelivery',
    description: 'The body of a webhook delivery (the OpenAPI document’s `webhooks`).',
  });
  registry.add(feedbackEntrySchema, { id: 'FeedbackEntry' });
  registry.add(feedbackSchema, {
    id: 'Feedback',
    examples: [{ score: 1, comment: 'Right companies, right directions.' }],
  });
  registry.add(errorEnvelopeSchema, { id: 'ErrorEnvelope', description: 'The body of every error answer.' });
  return registry;
}

/**
 * The OpenAPI 3.1 `webhooks` section: what the URL of a run request's `webhook` receives. The body's schema is the
 * one the lifecycle builds deliveries with.
 */
type OpenApiDocument = NonNullable<FastifyDynamicSwaggerOptions['openapi']>;
/** The `webhooks` of the 3.1 document type (the options accept 3.0 documents too, which have none). */
type Webhooks = OpenApiDocument extends infer D
  ? D extends unknown
    ? 'webhooks' extends keyof D
      ? NonNullable<D['webhooks']>
      : never
    : never
  : never;

export function webhookDocs(): Webhooks {
  return {
    runEvent: {
      post: {
        operationId: 'receiveRunEvent',
        summary: 'A run event, delivered to the run’s webhook',
        description:
          'POSTed to `webhook.url` for each event type in `webhook.events` (default: input.requested and the terminal event). Verify the signature before trusting the body (docs/human-input.md; `verifyWebhook` in @baton/client). A 2xx answer ends the delivery; anything else, or no answer within BATON_WEBHOOK_TIMEOUT_MS, is retried with backoff (BATON_WEBHOOK_ATTEMPTS); the attempts are listed on the run record. Deliveries of one run may arrive out of order and more than once: deduplicate by `id`.',
        tags: ['runs'],
        security: [],
        parameters: [
          {
            name: 'Baton-Signature',
            in: 'header' as const,
            required: true,
            description:
              '`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with BATON_WEBHOOK_SECRET>`; refuse old timestamps.',
            schema: { type: 'string', pattern: '^t=\\d+,v1=[0-9a-f]{64}$' },
          },
        ],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/WebhookDelivery' } } },
        },
        responses: {
          '200': { description: 'Received (any 2xx).' },
          '500': { description: 'Not received: the delivery is tried again later.' },
        },
      },
    },
  };
}

/** The document's tags, in the order readers meet them. */
export const apiTags = [
  { name: 'runs', description: 'Create runs, read them, follow their events, cancel them, give feedback.' },
  { name: 'catalog', description: 'The teams runs can use and their agents.' },
  { name: 'teams', description: 'The team registry: versions of team documents (admin).' },
  { name: 'operations', description: 'Workers, the queue and actions on runs (operator or admin).' },
  { name: 'health', description: 'Liveness and readiness probes.' },
];

type RouteSchema = { response?: Record<string, unknown>; hide?: boolean } | undefined;

/**
 * An `onRoute` hook: every documented route also declares the errors any route can answer — 401 without a valid
 * credential, 429 when throttled, 500 when something failed — each with the error envelope.
 */
export function withCommonErrors(route: RouteOptions): void {
  const schema = route.schema as RouteSchema;
  if (!schema?.response || schema.hide) return;
  const config = (route.config ?? {}) as { public?: boolean; rateLimit?: unknown };
  schema.response = {
    ...(config.public ? {} : { 401: errorEnvelopeSchema }),
    ...(config.rateLimit === false ? {} : { 429: errorEnvelopeSchema }),
    500: errorEnvelopeSchema,
    ...schema.response,
  };
}

type TransformObject = ReturnType<typeof createJsonSchemaTransformObject>;

/**
 * The document without component schemas nothing refers to: the zod registry emits an input and an output variant
 * of each registered schema, and a generated client should only see the ones the API uses.
 */
export function withoutUnusedComponents(transform: TransformObject): TransformObject {
  return (input) => {
    const document = transform(input);
    // The document is OpenAPI 3.1 (set in app.ts), which has components and webhooks.
    const { components, webhooks } = document as {
      components?: { schemas?: Record<string, unknown> };
      webhooks?: unknown;
    };
    const schemas = components?.schemas;
    if (!schemas) return document;
    const used = new Set<string>();
    const visit = (value: unknown) => {
      for (const [, name] of JSON.stringify(value).matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
        if (name && !used.has(name)) {
          used.add(name);
          visit(schemas[name]);
        }
      }
    };
    visit({ paths: document.paths, webhooks });
    for (const name of Object.keys(schemas)) if (!used.has(name)) delete schemas[name];
    return document;
  };
}
