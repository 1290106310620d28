import { Writable } from 'node:stream';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, runLogger } from '../../src/telemetry/logger.js';
import { startTestTelemetry, type TestTelemetry } from '../../src/telemetry/testing.js';
import { withAgentContext, withRunContext, withSpan } from '../../src/telemetry/tracing.js';

/** A destination that keeps every JSON line pino writes. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { stream, lines, raw };
}

let telemetry: TestTelemetry;

beforeAll(() => {
  telemetry = startTestTelemetry();
});

afterAll(async () => {
  await telemetry.shutdown();
});

beforeEach(() => {
  telemetry.reset();
});

describe('createLogger', () => {
  it('redacts authorization headers, API keys and connection strings wherever they appear', () => {
    const out = capture();
    const log = createLogger({ level: 'info', destination: out.stream, exportLogs: false });
    log.info(
      {
        req: {
          method: 'POST',
          url: '/v1/runs',
          headers: { authorization: 'Bearer sk-live-123', 'api-key': 'azure-key-1' },
        },
        headers: { authorization: 'Bearer other', 'x-api-key': 'xk' },
        upstream: { headers: { authorization: 'Bearer nested' }, apiKey: 'sk-nested' },
        apiKey: 'sk-top',
        connectionString: 'InstrumentationKey=abc',
      },
      'request in',
    );
    const [line] = out.lines;
    expect(line?.req).toEqual({
      method: 'POST',
      url: '/v1/runs',
      headers: { authorization: '[redacted]', 'api-key': '[redacted]' },
    });
    expect(line?.headers).toEqual({ authorization: '[redacted]', 'x-api-key': '[redacted]' });
    expect(line?.upstream).toEqual({ headers: { authorization: '[redacted]' }, apiKey: '[redacted]' });
    expect(line?.apiKey).toBe('[redacted]');
    expect(line?.connectionString).toBe('[redacted]');
    expect(out.raw.join('\n')).not.toMatch(
      /sk-live-123|azure-key-1|sk-nested|sk-top|Bearer|InstrumentationKey/,
    );
  });

  it('redacts message content unless content capture is on', () => {
    const hidden = capture();
    createLogger({ level: 'info', destination: hidden.stream, exportLogs: false }).info(
      { messages: [{ role: 'user', content: 'secret plan' }], step: { output: 'the answer' } },
      'model call',
    );
    expect(hidden.lines[0]?.messages).toBe('[redacted]');
    expect(hidden.lines[0]?.step).toEqual({ output: '[redacted]' });

    const shown = capture();
    createLogger({ level: 'info', destination: shown.stream, captureContent: true, exportLogs: false }).info(
      { messages: [{ role: 'user', content: 'secret plan' }], apiKey: 'still-secret' },
      'model call',
    );
    expect(shown.lines[0]?.messages).toEqual([{ role: 'user', content: 'secret plan' }]);
    expect(shown.lines[0]?.apiKey).toBe('[redacted]');
  });

  it('adds traceId and spanId inside a span, and nothing outside', async () => {
    const out = capture();
    const log = createLogger({ level: 'info', destination: out.stream, exportLogs: false });
    log.info('before');
    let ids: { traceId: string; spanId: string } | undefined;
    await withSpan('work', {}, async (span) => {
      ids = { traceId: span.spanContext().traceId, spanId: span.spanContext().spanId };
      await Promise.resolve();
      log.info('inside');
    });
    expect(out.lines[0]).not.toHaveProperty('traceId');
    expect(out.lines[1]).toEqual(expect.objectContaining({ msg: 'inside', ...ids }));
    expect(out.lines[1]?.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('adds runId and agent inside withRunContext; runLogger binds them once', async () => {
    const out = capture();
    const log = createLogger({ level: 'info', destination: out.stream, exportLogs: false });
    await withRunContext({ runId: 'run-9', pattern: 'handoff' }, async () => {
      log.info('run line');
      await withAgentContext('triage', async () => log.info('agent line'));
      runLogger(log, { runId: 'run-9', agent: 'triage' }).info('bound line');
    });
    expect(out.lines[0]).toEqual(expect.objectContaining({ msg: 'run line', runId: 'run-9' }));
    expect(out.lines[0]).not.toHaveProperty('agent');
    expect(out.lines[1]).toEqual(
      expect.objectContaining({ msg: 'agent line', runId: 'run-9', agent: 'triage' }),
    );
    expect(out.lines[2]).toEqual(
      expect.objectContaining({ msg: 'bound line', runId: 'run-9', agent: 'triage' }),
    );
    expect(out.raw[2]?.match(/"runId"/g)).toHaveLength(1);
  });

  it('exports lines as OpenTelemetry log records (redacted, correlated, run id as baton.run.id)', async () => {
    const out = capture();
    const log = createLogger({ level: 'info', destination: out.stream, exportLogs: true });
    let traceId = '';
    await withRunContext({ runId: 'run-5' }, () =>
      withSpan('work', {}, async (span) => {
        traceId = span.spanContext().traceId;
        log.warn({ apiKey: 'sk-x', attempt: 2, detail: { a: 1 } }, 'retrying');
      }),
    );
    log.debug('below the level');
    log.error({ err: new Error('boom') }, 'failed');

    expect(out.lines.map((l) => l.msg)).toEqual(['retrying', 'failed']);
    const records = telemetry.logRecords();
    expect(records.map((r) => r.body)).toEqual(['retrying', 'failed']);
    const [warn, error] = records;
    expect(warn?.severityNumber).toBe(SeverityNumber.WARN);
    expect(warn?.severityText).toBe('WARN');
    expect(warn?.attributes).toEqual(
      expect.objectContaining({
        apiKey: '[redacted]',
        attempt: 2,
        detail: '{"a":1}',
        'baton.run.id': 'run-5',
      }),
    );
    expect(warn?.spanContext?.traceId).toBe(traceId);
    expect(error?.severityNumber).toBe(SeverityNumber.ERROR);
    expect(error?.attributes['exception.message']).toBe('boom');
    expect(error?.attributes['exception.type']).toBe('Error');
  });
});
