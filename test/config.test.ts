import { describe, expect, it } from 'vitest';
import { ConfigError, isKnownEnvVar, loadConfig } from '../src/config/index.js';

describe('config', () => {
  it('has working defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.host).toBe('127.0.0.1');
    expect(c.models.provider).toBe('simulated');
    expect(c.models.simulated.latencyMs).toEqual([100, 300]);
    expect(c.redisUrl).toBeUndefined();
    expect(c.apiKeys).toBeUndefined();
  });

  it('fails with one sentence naming the bad variable and its value', () => {
    expect(() => loadConfig({ BATON_WORKER_CONCURRENCY: 'lots' })).toThrow(ConfigError);
    expect(() => loadConfig({ BATON_WORKER_CONCURRENCY: 'lots' })).toThrow(
      /^Invalid configuration: BATON_WORKER_CONCURRENCY .*\(got "lots"\)\.$/,
    );
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT/);
    expect(() => loadConfig({ BATON_MODEL_PROVIDER: 'gpt' })).toThrow(/BATON_MODEL_PROVIDER/);
    expect(() => loadConfig({ REDIS_URL: 'localhost:6379' })).toThrow(/REDIS_URL must start with redis:\/\//);
  });

  it('parses API keys with roles and never echoes a key in an error', () => {
    const c = loadConfig({ BATON_API_KEYS: 'aaaaaaaaaaaaaaaa:client, bbbbbbbbbbbbbbbb:admin' });
    expect(c.apiKeys).toEqual([
      { key: 'aaaaaaaaaaaaaaaa', role: 'client' },
      { key: 'bbbbbbbbbbbbbbbb', role: 'admin' },
    ]);
    try {
      loadConfig({ BATON_API_KEYS: 'secret-secret-secret:root' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/BATON_API_KEYS/);
      expect((err as Error).message).not.toContain('secret-secret');
    }
    expect(() => loadConfig({ BATON_API_KEYS: 'short:client' })).toThrow(/shorter than 16/);
  });

  it('treats empty variables as unset and knows its variable names', () => {
    expect(loadConfig({ PORT: '' }).port).toBe(3000);
    expect(isKnownEnvVar('BATON_WORKER_CONCURRENCY')).toBe(true);
    expect(isKnownEnvVar('OTEL_EXPORTER_OTLP_ENDPOINT')).toBe(true);
    expect(isKnownEnvVar('BATON_WORKERS')).toBe(false);
  });

  it('reads the OIDC issuer settings: audience required, role map parsed, defaults for the rest', () => {
    expect(loadConfig({}).oidc).toBeUndefined();
    expect(() => loadConfig({ BATON_OIDC_ISSUER: 'https://login.example.com/t/v2.0' })).toThrow(
      /BATON_OIDC_AUDIENCE is required with BATON_OIDC_ISSUER/,
    );
    const c = loadConfig({
      BATON_OIDC_ISSUER: 'https://login.example.com/t/v2.0',
      BATON_OIDC_AUDIENCE: 'api://baton',
      BATON_OIDC_ROLE_MAP: 'Baton.Admin=admin, Baton.Reader=client',
    });
    expect(c.oidc).toEqual({
      issuer: 'https://login.example.com/t/v2.0',
      audience: 'api://baton',
      jwksUri: undefined,
      clockSkewSeconds: 60,
      roleClaim: 'roles',
      roleMap: { 'Baton.Admin': 'admin', 'Baton.Reader': 'client' },
      tenantClaim: 'sub',
    });
    expect(
      loadConfig({ BATON_OIDC_ISSUER: 'https://x.example', BATON_OIDC_AUDIENCE: 'a' }).oidc?.roleMap,
    ).toEqual({
      client: 'client',
      operator: 'operator',
      admin: 'admin',
    });
    expect(() => loadConfig({ BATON_OIDC_ROLE_MAP: 'Baton.Admin=root' })).toThrow(/BATON_OIDC_ROLE_MAP/);
  });

  it('bounds event streams and throttles failed authentications by default', () => {
    const c = loadConfig({});
    expect(c.http.sse).toEqual({ maxStreams: 1000, maxStreamsPerKey: 20 });
    expect(c.http.authFailuresPerMinute).toBe(30);
    expect(c.http.trustProxy).toBe(0);
  });

  it('takes a Redis Cluster: several node URLs, and the prefix as a hash tag', () => {
    const plain = loadConfig({ REDIS_URL: 'redis://a:6379' });
    expect([plain.redisCluster, plain.redisPrefix]).toEqual([false, 'baton']);
    const cluster = loadConfig({
      REDIS_URL: 'rediss://:secret@a:6380, rediss://:secret@b:6380',
      BATON_REDIS_CLUSTER: 'true',
      BATON_REDIS_PREFIX: 'acme',
      BATON_REDIS_WAIT_REPLICAS: '1',
    });
    expect([cluster.redisCluster, cluster.redisPrefix]).toEqual([true, '{acme}']);
    expect(cluster.redisReplicas).toEqual({ count: 1, timeoutMs: 1_000 });
    // A prefix that is a tag already stays as it is.
    expect(loadConfig({ BATON_REDIS_CLUSTER: 'true', BATON_REDIS_PREFIX: '{acme}' }).redisPrefix).toBe(
      '{acme}',
    );
    expect(() => loadConfig({ REDIS_URL: 'redis://a:6379,redis://b:6379' })).toThrow(
      /REDIS_URL lists several servers, which only a Redis Cluster \(BATON_REDIS_CLUSTER=true\) takes/,
    );
    expect(() => loadConfig({ BATON_REDIS_PREFIX: 'a{b}' })).toThrow(/BATON_REDIS_PREFIX must be letters/);
  });
});
