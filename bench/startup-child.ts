/**
 * The process `npm run bench:startup` times from spawn to exit: what a baton process does first after the
 * preload — the logger, one run span around one model-call span, one run metric. Prints nothing.
 */
import { Writable } from 'node:stream';
import { createLogger } from '../src/telemetry/logger.js';
import { recordRun } from '../src/telemetry/metrics.js';
import { withRunContext, withSpan } from '../src/telemetry/tracing.js';

const log = createLogger({
  level: 'info',
  destination: new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  }),
});

await withRunContext({ runId: 'startup-run', pattern: 'sequential' }, () =>
  withSpan('baton.run sequential', {}, async () => {
    log.info({ step: 1 }, 'a log line');
    await withSpan('chat startup-model', {}, async () => undefined);
  }),
);
recordRun({ pattern: 'sequential', team: 'startup-team', status: 'succeeded', durationMs: 1 });
