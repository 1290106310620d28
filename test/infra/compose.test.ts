import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { agentPolicySchema } from '../../src/agents/schema.js';
import { isKnownEnvVar, loadConfig } from '../../src/config/index.js';

const root = join(import.meta.dirname, '..', '..');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | Record<string, unknown>)[];
  volumes?: (string | Record<string, unknown>)[];
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string[] | string; disable?: boolean };
  deploy?: { replicas?: number };
  stop_grace_period?: string;
}

interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

// `merge: true`: YAML merge keys (`<<: *anchor`), which Docker Compose supports.
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as ComposeFile;

function service(name: string): Service {
  const s = compose.services[name];
  expect(s, `service ${name}`).toBeDefined();
  return s as Service;
}

/** A service's environment as name -> raw value (interpolations such as `${X:-d}` kept). */
function environment(name: string): Record<string, string> {
  const env = service(name).environment ?? {};
  const entries = Array.isArray(env)
    ? env.map((e) => {
        const at = e.indexOf('=');
        return at < 0 ? [e, ''] : [e.slice(0, at), e.slice(at + 1)];
      })
    : Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]);
  return Object.fromEntries(entries);
}

/** What Compose would substitute with nothing set in the shell: `${X:-default}` -> default. */
function interpolateDefaults(value: string): string {
  return value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g,
    (_m, _name: string, def?: string) => def ?? '',
  );
}

/** Compose duration (`60s`, `1m30s`, `500ms`) in milliseconds. */
function durationMs(value: string): number {
  let total = 0;
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 };
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us)/g)];
  expect(parts.map((p) => p[0]).join(''), `duration ${value}`).toBe(value);
  for (const [, n, unit] of parts) total += Number(n) * (units[unit ?? ''] ?? Number.NaN);
  return total;
}

const batonServices = ['api', 'worker'] as const;

describe('docker-compose.yml', () => {
  it('runs Redis with AOF persistence on a named volume and a redis-cli ping healthcheck', () => {
    const redis = service('redis');
    expect(redis.image).toMatch(/^redis:7/);
    const command = Array.isArray(redis.command) ? redis.command.join(' ') : (redis.command ?? '');
    expect(command).toMatch(/--appendonly\s+yes/);
    expect(command).toMatch(/--maxmemory-policy\s+noeviction/);
    const dataVolume = (redis.volumes ?? [])
      .map((v) => (typeof v === 'string' ? v.split(':') : [String(v.source), String(v.target)]))
      .find(([, target]) => target === '/data');
    expect(dataVolume, 'a volume mounted at /data').toBeDefined();
    expect(Object.keys(compose.volumes ?? {})).toContain(dataVolume?.[0]);
    const test = redis.healthcheck?.test;
    expect(Array.isArray(test) ? test.join(' ') : test).toMatch(/redis-cli ping/);
  });

  it('sets only environment variables baton knows on the api and the workers', () => {
    for (const name of batonServices) {
      const env = environment(name);
      expect(Object.keys(env).length).toBeGreaterThan(0);
      expect(Object.keys(env).filter((v) => !isKnownEnvVar(v))).toEqual([]);
    }
  });

  it('gives values that baton config accepts', () => {
    for (const name of batonServices) {
      const env = Object.fromEntries(
        Object.entries(environment(name)).map(([k, v]) => {
          // Required-from-the-shell values: stand in a well-formed one.
          if (/\$\{[A-Z_]+:\?/.test(v)) return [k, `${'k'.repeat(24)}:admin`];
          return [k, interpolateDefaults(v)];
        }),
      );
      expect(() => loadConfig(env), `${name} environment`).not.toThrow();
    }
  });

  it('connects both roles to the redis service, the api once it is healthy', () => {
    for (const name of batonServices) {
      const url = new URL(environment(name).REDIS_URL ?? '');
      expect(url.protocol).toBe('redis:');
      expect(Object.keys(compose.services)).toContain(url.hostname);
      const deps = service(name).depends_on;
      expect(deps && !Array.isArray(deps) ? deps[url.hostname]?.condition : undefined).toBe(
        'service_healthy',
      );
    }
  });

  it('requires API keys from the environment instead of shipping one', () => {
    const keys = environment('api').BATON_API_KEYS ?? '';
    expect(keys).toMatch(/^\$\{BATON_API_KEYS:\?[^}]+\}$/);
    expect(environment('worker').BATON_API_KEYS).toBeUndefined();
  });

  it('runs one image in two roles: api on port 3000, two worker replicas', () => {
    const api = service('api');
    const worker = service('worker');
    expect(api.image).toBeDefined();
    expect(worker.image).toBe(api.image);
    expect(worker.build).toEqual(api.build);
    expect(api.command).toEqual(['api']);
    expect(worker.command).toEqual(['worker']);
    expect(api.ports?.map(String)).toContain('3000:3000');
    expect(interpolateDefaults(environment('api').PORT ?? '3000')).toBe('3000');
    expect(worker.deploy?.replicas).toBe(2);
    expect(worker.ports).toBeUndefined();
  });

  it('lets a worker finish in-flight agent calls before Docker kills it', () => {
    const worker = service('worker');
    const grace = durationMs(worker.stop_grace_period ?? '10s');
    const shutdown = Number(interpolateDefaults(environment('worker').BATON_SHUTDOWN_GRACE_MS ?? '25000'));
    const agentTimeout = agentPolicySchema.parse({}).timeoutMs;
    expect(shutdown).toBeGreaterThan(agentTimeout);
    expect(grace).toBeGreaterThan(shutdown);
  });

  it('disables the image HTTP healthcheck for workers, which serve no HTTP', () => {
    expect(service('worker').healthcheck?.disable).toBe(true);
    expect(service('api').healthcheck?.disable).not.toBe(true);
  });

  it('sends traces over OTLP to the trace viewer service', () => {
    for (const name of batonServices) {
      const env = environment(name);
      const endpoint = new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '');
      const viewer = service(endpoint.hostname);
      expect(viewer.image).toMatch(
        /^(jaegertracing\/all-in-one|mcr\.microsoft\.com\/dotnet\/aspire-dashboard):\d/,
      );
      expect(env.OTEL_EXPORTER_OTLP_PROTOCOL).toBe('http/protobuf');
      // OTLP over HTTP listens on 4318 in Jaeger.
      expect(endpoint.port).toBe('4318');
      expect(env.OTEL_SERVICE_NAME).toMatch(/^baton-/);
      const deps = service(name).depends_on;
      expect(deps && !Array.isArray(deps) ? Object.keys(deps) : deps).toContain(endpoint.hostname);
    }
    expect(environment('api').OTEL_SERVICE_NAME).not.toBe(environment('worker').OTEL_SERVICE_NAME);
  });

  it('publishes the trace viewer UI', () => {
    const viewer = service(new URL(environment('api').OTEL_EXPORTER_OTLP_ENDPOINT ?? '').hostname);
    expect(viewer.ports?.map(String).some((p) => /:(16686|18888)$/.test(p))).toBe(true);
  });
});
