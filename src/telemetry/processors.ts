/**
 * SDK span processor that stamps `baton.run.id` on every span started inside `withRunContext` —
 * baton's own spans and the instrumentations' (ioredis, http, BullMQ). Type-only SDK imports: loading
 * this module costs nothing.
 */
import type { Context } from '@opentelemetry/api';
import type { tracing } from '@opentelemetry/sdk-node';
import { ATTR_BATON_RUN_ID } from './attributes.js';
import { runContextOf } from './tracing.js';

export class RunContextSpanProcessor implements tracing.SpanProcessor {
  onStart(span: tracing.Span, parentContext: Context): void {
    const run = runContextOf(parentContext);
    if (run && span.attributes[ATTR_BATON_RUN_ID] === undefined)
      span.setAttribute(ATTR_BATON_RUN_ID, run.runId);
  }

  onEnd(): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
