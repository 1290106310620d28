import type { RouteOptions } from 'fastify';
import type { createJsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { runEventSchema } from '../core/events.js';
import { feedbackEntrySchema, feedbackSchema, runRecordSchema, runRequestSchema } from '../runs/schema.js';
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
  registry.add(feedbackEntrySchema, { id: 'FeedbackEntry' });
  registry.add(feedbackSchema, {
    id: 'Feedback',
    examples: [{ score: 1, comment: 'Right companies, right directions.' }],
  });
  registry.add(errorEnvelopeSchema, { id: 'ErrorEnvelope', description: 'The body of every error answer.' });
  return registry;
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
