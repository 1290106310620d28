import { describe, expect, it, vi } from 'vitest';
import {
  baseResourceAttributes,
  batonVersion,
  fastifyOtelPlugin,
  isIgnoredRedisCommand,
  isUntracedPath,
  redisStatement,
  resolveTelemetryPlan,
  roleFromArgv,
  serviceNameForRole,
  shutdownTelemetry,
  startTelemetry,
  telemetryState,
} from '../../src/telemetry/sdk.js';

const otlp = (protocol: string) => ({ kind: 'otlp', protocol });

describe('resolveTelemetryPlan', () => {
  it('is off without any exporter configuration, whatever the role', () => {
    expect(resolveTelemetryPlan({}, { role: 'api' })).toBeUndefined();
    expect(resolveTelemetryPlan({ OTEL_SERVICE_NAME: 'x' }, { role: 'worker' })).toBeUndefined();
    expect(
      resolveTelemetryPlan({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, { role: 'api' }),
    ).toBeUndefined();
  });

  it('an OTLP endpoint turns on all three signals over http/protobuf by default', () => {
    const plan = resolveTelemetryPlan(
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' },
      { role: 'api' },
    );
    expect(plan).toEqual({
      serviceName: 'baton-api',
      azure: undefined,
      traces: [otlp('http/protobuf')],
      metrics: [otlp('http/protobuf')],
      logs: [otlp('http/protobuf')],
      warnings: [],
    });
  });

  it('honours the protocol, per-signal protocols, endpoints and exporter lists', () => {
    const plan = resolveTelemetryPlan(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc',
        OTEL_LOGS_EXPORTER: 'none',
        OTEL_TRACES_EXPORTER: 'otlp,console',
      },
      { role: 'worker' },
    );
    expect(plan?.traces).toEqual([otlp('http/json'), { kind: 'console' }]);
    expect(plan?.metrics).toEqual([otlp('grpc')]);
    expect(plan?.logs).toEqual([]);

    const tracesOnly = resolveTelemetryPlan(
      { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' },
      { role: 'dev' },
    );
    expect(tracesOnly?.serviceName).toBe('baton');
    expect([tracesOnly?.traces.length, tracesOnly?.metrics.length, tracesOnly?.logs.length]).toEqual([
      1, 0, 0,
    ]);

    // An explicit exporter without an endpoint means the standard default endpoint (localhost:4318).
    expect(resolveTelemetryPlan({ OTEL_METRICS_EXPORTER: 'otlp' }, { role: 'api' })?.metrics).toEqual([
      otlp('http/protobuf'),
    ]);
    expect(resolveTelemetryPlan({ OTEL_TRACES_EXPORTER: 'console' }, { role: 'api' })?.traces).toEqual([
      { kind: 'console' },
    ]);
  });

  it('reports unsupported exporter and protocol names as warnings', () => {
    const plan = resolveTelemetryPlan(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'carrier-pigeon',
        OTEL_TRACES_EXPORTER: 'zipkin,otlp',
      },
      { role: 'api' },
    );
    expect(plan?.traces).toEqual([otlp('http/protobuf')]);
    expect(plan?.warnings).toEqual(
      expect.arrayContaining([
        'unsupported OTLP protocol "carrier-pigeon" for traces; using http/protobuf',
        'unsupported OTEL_TRACES_EXPORTER value "zipkin" (supported: otlp, console, none)',
      ]),
    );
  });

  it('Azure Monitor alone is enough; OTLP can run next to it', () => {
    const azure = resolveTelemetryPlan(
      { APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=k' },
      { role: 'api' },
    );
    expect(azure?.azure).toEqual({ connectionString: 'InstrumentationKey=k' });
    expect([azure?.traces, azure?.metrics, azure?.logs]).toEqual([[], [], []]);
    const both = resolveTelemetryPlan(
      {
        APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=k',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c',
      },
      { role: 'worker' },
    );
    expect(both?.azure).toBeDefined();
    expect(both?.traces).toHaveLength(1);
  });

  it('run/eval need OTEL_SERVICE_NAME; OTEL_SERVICE_NAME overrides; OTEL_SDK_DISABLED wins', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c' };
    expect(resolveTelemetryPlan(env, { role: 'run' })).toBeUndefined();
    expect(resolveTelemetryPlan(env, { role: 'eval' })).toBeUndefined();
    expect(resolveTelemetryPlan(env, {})).toBeUndefined();
    expect(
      resolveTelemetryPlan({ ...env, OTEL_SERVICE_NAME: 'baton-eval' }, { role: 'eval' })?.serviceName,
    ).toBe('baton-eval');
    expect(resolveTelemetryPlan({ ...env, OTEL_SERVICE_NAME: 'mine' }, { role: 'api' })?.serviceName).toBe(
      'mine',
    );
    expect(resolveTelemetryPlan(env, { serviceName: 'explicit' })?.serviceName).toBe('explicit');
    expect(resolveTelemetryPlan({ ...env, OTEL_SDK_DISABLED: 'true' }, { role: 'api' })).toBeUndefined();
  });
});

describe('roles and resource', () => {
  it('reads the CLI role from argv and maps it to a service name', () => {
    expect(roleFromArgv(['node', '/app/dist/src/cli.js', 'api'])).toBe('api');
    expect(roleFromArgv(['node', '/app/dist/src/cli.js', '--verbose', 'worker', '--x'])).toBe('worker');
    expect(roleFromArgv(['node', 'script.js'])).toBeUndefined();
    expect(serviceNameForRole('api')).toBe('baton-api');
    expect(serviceNameForRole('worker')).toBe('baton-worker');
    expect(serviceNameForRole('dev')).toBe('baton');
    expect(serviceNameForRole('run')).toBeUndefined();
    expect(serviceNameForRole('toString')).toBeUndefined();
  });

  it('sets service name, version from package.json and deployment environment', () => {
    expect(batonVersion()).toMatch(/^\d+\.\d+\.\d+/);
    expect(baseResourceAttributes('baton-api', { BATON_ENVIRONMENT: 'prod' })).toEqual({
      'service.name': 'baton-api',
      'service.version': batonVersion(),
      'deployment.environment.name': 'prod',
    });
    expect(baseResourceAttributes('baton-api', {})['deployment.environment.name']).toBe('development');
  });
});

describe('instrumentation filters', () => {
  it('records Redis commands with keys only, never values or script arguments', () => {
    expect(redisStatement('set', ['baton:run:1', 'a very secret value'])).toBe(
      'set baton:run:1 [1 other arguments]',
    );
    expect(redisStatement('get', ['k'])).toBe('get k');
    expect(redisStatement('ping', [])).toBe('ping');
    expect(
      redisStatement('evalsha', [
        '0123456789abcdef0123',
        2,
        'bull:runs:wait',
        'bull:runs:id',
        '{"input":"secret"}',
      ]),
    ).toBe('evalsha 0123456789ab bull:runs:wait bull:runs:id [1 other arguments]');
    expect(redisStatement('xadd', ['events:1', '*', 'data', 'token text'])).toBe(
      'xadd events:1 [3 other arguments]',
    );
    expect(redisStatement('xread', ['BLOCK', 5000, 'STREAMS', 'events:1', '0-0'])).toBe(
      'xread BLOCK 5000 STREAMS events:1',
    );
    expect(redisStatement('hset', [Buffer.from('k'), 'f'])).toBe('hset ? [1 other arguments]');
  });

  it('ignores blocking Redis commands, including XREAD BLOCK', () => {
    expect(isIgnoredRedisCommand('bzpopmin', 'bzpopmin k')).toBe(true);
    expect(isIgnoredRedisCommand('BRPOPLPUSH', undefined)).toBe(true);
    expect(
      isIgnoredRedisCommand('xread', redisStatement('xread', ['BLOCK', 5000, 'STREAMS', 'e', '$'])),
    ).toBe(true);
    expect(isIgnoredRedisCommand('xread', redisStatement('xread', ['COUNT', 10, 'STREAMS', 'e', '0']))).toBe(
      false,
    );
    expect(isIgnoredRedisCommand('set', 'set k')).toBe(false);
    expect(isIgnoredRedisCommand('evalsha', 'evalsha x')).toBe(false);
  });

  it('does not trace probes, docs and the queue dashboard', () => {
    for (const path of [
      '/healthz',
      '/readyz',
      '/docs',
      '/docs/static/index.html',
      '/admin/queues',
      '/admin/queues/api/queues?x=1',
    ]) {
      expect(isUntracedPath(path)).toBe(true);
    }
    for (const path of ['/v1/runs', '/v1/runs/:id/events', '/openapi.json', '/docsx']) {
      expect(isUntracedPath(path)).toBe(false);
    }
  });
});

describe('off by default', () => {
  it('startTelemetry without configuration starts nothing; integrations are undefined; shutdown is a no-op', async () => {
    expect(await startTelemetry({ env: {}, role: 'api' })).toBe(false);
    expect(telemetryState().started).toBe(false);
    expect(fastifyOtelPlugin()).toBeUndefined();
    await expect(shutdownTelemetry()).resolves.toBeUndefined();
  });
});

describe('shutdown deadline', () => {
  it('waits for exporters that never finish (an unreachable collector, retried) no longer than 5 s', async () => {
    vi.useFakeTimers();
    try {
      telemetryState().shutdown = () => new Promise<void>(() => {});
      let ended = false;
      const shutdown = shutdownTelemetry().then(() => {
        ended = true;
      });
      await vi.advanceTimersByTimeAsync(4_999);
      expect(ended).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await shutdown;
      expect(ended).toBe(true);
      expect(telemetryState().shutdown).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });
});
