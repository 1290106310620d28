import { z } from 'zod';
import { runEventSchema } from '../core/events.js';
import { feedbackEntrySchema, runRecordSchema, runRequestSchema } from '../runs/schema.js';
import { errorEnvelopeSchema } from './errors.js';

/**
 * The schemas the OpenAPI document names as components (`#/components/schemas/<id>`), so generated clients get one
 * type per contract — the run record, the run request, the one union of run events — instead of a copy per route.
 */
export function openApiSchemas() {
  const registry = z.registry<{ id: string; description?: string }>();
  registry.add(runRequestSchema, {
    id: 'RunRequest',
    description: 'A run to create: team, pattern, input, options.',
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
  registry.add(errorEnvelopeSchema, { id: 'ErrorEnvelope', description: 'The body of every error answer.' });
  return registry;
}
