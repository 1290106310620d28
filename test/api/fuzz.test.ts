import { type ChildProcess, fork } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, KEYS } from '../admin/harness.js';
import { CLIENT_KEY, client, OPERATOR_KEY, OTHER_CLIENT_KEY, ROOT } from '../support/baton.js';
import type { MemorySample } from '../support/fuzz-target.js';
import { startRedis, subPrefix, type TestRedis } from '../support/redis.js';

/**
 * A property-based HTTP fuzz test over the OpenAPI document the API serves: for every operation, generated path
 * parameters, queries, headers and bodies — valid-ish ones from the schemas and hostile ones (deep nesting, huge
 * strings, unicode, wrong types, prototype keys, bad percent- and UTF-8 encodings, wrong content types, garbage
 * credentials) — plus raw paths outside the document, sent to a real API and worker over a real Redis. Properties:
 * no answer is a 5xx; every 4xx under /v1 carries the error envelope; the API process's heap after a full garbage
 * collection ends within 20% of where it started.
 */

const TOTAL = Number(process.env.FUZZ_REQUESTS ?? 5_200);
const WARM_UP = 400;
const PARALLEL = 8;
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2_147_483_647);

interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean | number;
  pattern?: string;
  nullable?: boolean;
}

interface Operation {
  method: string;
  template: string;
  params: { in: 'path' | 'query' | 'header'; name: string; schema: JsonSchema }[];
  body?: JsonSchema;
}

interface FuzzRequest {
  /** Which generator made it, for the report. */
  op: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

let redis: TestRedis;
let target: ChildProcess;
let url: string;
let operations: Operation[];
let runIds: string[];

function fromChild<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const onMessage = (message: { type: string }) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolvePromise(message as T);
    };
    const onExit = (code: number | null) => reject(new Error(`the fuzz target exited (${code})`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

async function memory(): Promise<MemorySample> {
  const answer = fromChild<{ memory: MemorySample; gc: boolean }>(target, 'memory');
  target.send({ type: 'memory' });
  const { memory: sample, gc } = await answer;
  expect(gc, 'the fuzz target runs with --expose-gc').toBe(true);
  return sample;
}

beforeAll(async () => {
  redis = await startRedis();
  target = fork(resolve(ROOT, 'test/support/fuzz-target.ts'), [], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_URL: redis.url,
      BATON_REDIS_PREFIX: subPrefix(redis.prefix, 'fuzz'),
      BATON_API_KEYS: KEYS,
      BATON_SIMULATED_LATENCY_MS: '0',
      BATON_RATE_LIMIT_PER_MINUTE: '0',
      BATON_AUTH_FAILURES_PER_MINUTE: '0',
      BATON_BODY_LIMIT_BYTES: '262144',
      LOG_LEVEL: 'silent',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  ({ url } = await fromChild<{ url: string }>(target, 'ready'));
  const spec = (await (await fetch(`${url}/openapi.json`)).json()) as {
    paths: Record<
      string,
      Record<
        string,
        {
          parameters?: Operation['params'];
          requestBody?: { content: Record<string, { schema: JsonSchema }> };
        }
      >
    >;
  };
  operations = Object.entries(spec.paths).flatMap(([template, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      template,
      params: op.parameters ?? [],
      ...(op.requestBody ? { body: op.requestBody.content['application/json']?.schema ?? {} } : {}),
    })),
  );
  const sample = { team: 'news-desk', pattern: 'sequential', input: 'A short text to fuzz around.' };
  const a = client(url, CLIENT_KEY);
  const b = client(url, OTHER_CLIENT_KEY);
  runIds = [(await a.createRun(sample)).run.id, (await b.createRun(sample)).run.id];
  for (const id of runIds)
    await a.waitForStatus(id, ['succeeded']).catch(() => b.waitForStatus(id, ['succeeded']));
}, 60_000);

afterAll(async () => {
  if (target && target.exitCode === null) {
    const stopped = fromChild(target, 'stopped').catch(() => undefined);
    target.send({ type: 'stop' });
    await stopped;
  }
  await redis?.stop();
});

// ── generators ─────────────────────────────────────────────────────────────────────────────────────────────

const PROTOTYPE_NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '__defineGetter__',
];

/** Strings nobody should trust: prototype names, traversal, control characters, markup, unicode, long ones. */
const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(
    ...PROTOTYPE_NAMES,
    '',
    ' ',
    '..',
    '../..',
    '\u0000',
    'null',
    'undefined',
    'NaN',
    '-1',
    '1e309',
    '{}',
    '[]',
    "' OR 1=1 --",
    '<script>alert(1)</script>',
    '$' + '{7*7}', // a template-injection probe, kept out of a template literal
    '*',
    '\u202e\u0644\ud83d\ude00',
    'ＡＢＣ',
  ),
  fc.string({ minLength: 120, maxLength: 400 }),
);

/** A header value Node lets a client send (Latin-1, no control characters). */
const headerSafe = (s: string) => s.replace(/[^\x20-\x7e\xa0-\xff]/g, '?');

/** Percent sequences that are not valid encodings, put into URLs as they are. */
const badEncoding = fc.constantFrom(
  '%',
  '%Z',
  '%ZZ',
  '%E0%A4%A',
  '%C3%28',
  '%FF%FE',
  '%ED%A0%80',
  '%c0%af',
  '%%',
  '%2',
);

function fromSchema(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  if (depth > 5) return fc.constant(null);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const options = schema.anyOf ?? schema.oneOf;
  if (options) return fc.oneof(...options.map((s) => fromSchema(s, depth + 1)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 80) });
    case 'integer': {
      const exclusive = schema.exclusiveMinimum === true ? 1 : 0;
      const min = Math.max(schema.minimum ?? -1_000_000, Number.MIN_SAFE_INTEGER) + exclusive;
      const max = Math.min(schema.maximum ?? 1_000_000, Number.MAX_SAFE_INTEGER);
      return fc.oneof(
        fc.integer({ min: Math.max(min, -1_000_000), max: Math.min(max, 1_000_000) }),
        fc.constantFrom(min, max),
      );
    }
    case 'number':
      return fc.double({
        min: schema.minimum ?? -1e6,
        max: schema.maximum ?? 1e6,
        noNaN: true,
        noDefaultInfinity: true,
      });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(fromSchema(schema.items ?? {}, depth + 1), { maxLength: 4 });
    case 'object': {
      const props = schema.properties ?? {};
      const shape = Object.fromEntries(Object.entries(props).map(([k, s]) => [k, fromSchema(s, depth + 1)]));
      const record = fc.record(shape, { requiredKeys: (schema.required ?? []).filter((k) => k in props) });
      if (Object.keys(props).length > 0) return record;
      return fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 });
    }
    default:
      return fc.jsonValue({ maxDepth: 3 });
  }
}

/** Nested objects or arrays `depth` levels deep, as JSON text (built as text: the value itself could not be). */
const deepJson = fc
  .tuple(
    fc.integer({ min: 10, max: 6_000 }),
    fc.boolean(),
    fc.constantFrom('input', 'options', 'comment', 'score'),
  )
  .map(([depth, arrays, field]) => {
    const nested = arrays
      ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
      : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    return Buffer.from(`{"team":"news-desk","pattern":"sequential","score":1,"${field}":${nested}}`);
  });

const hostileBody: fc.Arbitrary<Buffer> = fc.oneof(
  deepJson,
  // Huge strings, below and above the body limit.
  fc
    .tuple(fc.integer({ min: 50_000, max: 400_000 }), fc.constantFrom('input', 'comment', 'team'))
    .map(([n, field]) => Buffer.from(`{"pattern":"sequential","score":1,"${field}":"${'x'.repeat(n)}"}`)),
  // Wrong types anywhere.
  fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  fc
    .record(
      {
        team: fc.jsonValue(),
        pattern: fc.jsonValue(),
        input: fc.jsonValue(),
        options: fc.jsonValue(),
        score: fc.jsonValue(),
      },
      { requiredKeys: [] },
    )
    .map((v) => Buffer.from(JSON.stringify(v))),
  // Prototype keys.
  fc
    .constantFrom(...PROTOTYPE_NAMES)
    .chain((name) =>
      fc.constantFrom(
        `{"${name}":{"polluted":true},"pattern":"sequential","input":"x"}`,
        `{"pattern":"sequential","input":{"${name}":{"polluted":1}}}`,
        `{"pattern":"sequential","input":"x","options":{"${name}":{"polluted":1}}}`,
        `{"pattern":"sequential","input":"x","metadata":{"${name}":"x"}}`,
        `{"constructor":{"prototype":{"polluted":true}},"score":1}`,
      ),
    )
    .map((text) => Buffer.from(text)),
  // Bad encodings: truncated JSON, invalid UTF-8, a BOM, nothing at all.
  fc.constantFrom(
    Buffer.from('{"pattern": "sequential", "input": "x"'),
    Buffer.from('{"pattern":"sequential","input":"\\ud800"}'),
    Buffer.concat([
      Buffer.from('{"pattern":"sequential","input":"'),
      Buffer.from([0xff, 0xfe, 0xc3, 0x28]),
      Buffer.from('"}'),
    ]),
    Buffer.from('\ufeff{"pattern":"sequential","input":"x"}'),
    Buffer.from(''),
    Buffer.from('null'),
    Buffer.from('[]'),
    Buffer.from('{"score":1e999}'),
    Buffer.from('{"score":1,"score":2}'),
  ),
);

const credential: fc.Arbitrary<string | undefined> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .constantFrom(CLIENT_KEY, OTHER_CLIENT_KEY, OPERATOR_KEY, ADMIN_KEY)
      .map((k) => `Bearer ${k}`),
  },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.constant(undefined),
      fc.constantFrom(
        'Bearer',
        'Bearer ',
        'Basic Zm9vOmJhcg==',
        'bearer  x',
        `Bearer ${CLIENT_KEY} extra`,
        'Bearer eyJhbGciOiJub25lIn0.e30.',
      ),
      hostileString.map((s) => `Bearer ${headerSafe(s)}`),
    ),
  },
);

const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/merge-patch+json',
      'application/xml',
      '*/*',
      '',
    ),
  },
);

/** A path parameter: a real run id, a well-formed unknown one, hostile strings, too long, badly encoded. */
function pathParam(name: string): fc.Arbitrary<string> {
  const known = name === 'team' ? fc.constantFrom('news-desk', 'no-such-team') : fc.constantFrom(...runIds);
  return fc.oneof(
    { weight: 4, arbitrary: known },
    { weight: 2, arbitrary: fc.uuid().map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.constantFrom(...runIds).map((id) => `${id}${encodeURIComponent(':events')}`) },
    { weight: 3, arbitrary: hostileString.map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.integer({ min: 101, max: 2_000 }).map((n) => 'a'.repeat(n)) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom(...runIds), badEncoding).map(([id, bad]) => `${id}${bad}`),
    },
    { weight: 1, arbitrary: fc.constantFrom('..%2F..%2Fadmin', '%2e%2e', '.', '%00', '%20') },
  );
}

function queryFor(op: Operation): fc.Arbitrary<string> {
  const declared = op.params.filter((p) => p.in === 'query');
  const value = (schema: JsonSchema) =>
    fc.oneof(
      {
        weight: 3,
        arbitrary: fromSchema(schema).map((v) =>
          encodeURIComponent(typeof v === 'object' ? JSON.stringify(v) : String(v)),
        ),
      },
      { weight: 2, arbitrary: hostileString.map(encodeURIComponent) },
      { weight: 1, arbitrary: badEncoding },
    );
  const pair = fc.oneof(
    ...(declared.length > 0
      ? [
          declared.length > 1
            ? fc.constantFrom(...declared)
            : fc.constant(declared[0] as Operation['params'][number]),
        ]
      : []
    ).map((p) => p.chain((param) => value(param.schema).map((v) => `${param.name}=${v}`))),
    fc
      .tuple(
        fc.oneof(
          fc.constantFrom(...PROTOTYPE_NAMES, '__proto__[polluted]', 'limit[]', 'a.b', ''),
          hostileString.map(encodeURIComponent),
        ),
        value({}),
      )
      .map(([k, v]) => `${k}=${v}`),
  );
  return fc.array(pair, { maxLength: 4 }).map((pairs) => (pairs.length > 0 ? `?${pairs.join('&')}` : ''));
}

function requestFor(op: Operation): fc.Arbitrary<FuzzRequest> {
  const pathParams = op.params.filter((p) => p.in === 'path');
  const path = fc
    .tuple(...pathParams.map((p) => pathParam(p.name).map((v) => [p.name, v] as const)))
    .map((pairs) => pairs.reduce((t, [name, v]) => t.replace(`{${name}}`, v), op.template));
  const body: fc.Arbitrary<Buffer | undefined> = op.body
    ? fc.oneof(
        { weight: 5, arbitrary: fromSchema(op.body).map((v) => Buffer.from(JSON.stringify(v))) },
        { weight: 4, arbitrary: hostileBody },
      )
    : fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: hostileBody });
  const extraHeaders = fc.record(
    {
      'idempotency-key': hostileString.map(headerSafe),
      'last-event-id': fc.oneof(
        fc.constantFrom('0-0', '1-0', '999999999999999-0', '99999999999999999999999-0'),
        hostileString.map(headerSafe),
      ),
      accept: fc.constantFrom('application/json', 'text/event-stream', 'text/html', '*/*'),
      'x-forwarded-proto': fc.constantFrom('https', 'http'),
      origin: fc.constantFrom('https://evil.example', 'null'),
    },
    { requiredKeys: [] },
  );
  return fc
    .record({ path, query: queryFor(op), auth: credential, type: contentType, body, extra: extraHeaders })
    .map((r) => ({
      op: `${op.method} ${op.template}`,
      method: op.method,
      path: `${r.path}${r.query}`,
      headers: {
        ...r.extra,
        ...(r.auth !== undefined ? { authorization: r.auth } : {}),
        ...(r.body !== undefined && r.type !== '' ? { 'content-type': r.type } : {}),
      },
      ...(r.body !== undefined ? { body: r.body } : {}),
    }));
}

/** Requests outside the document: other methods, console paths through encodings, odd slashes and cases. */
const rawRequest: fc.Arbitrary<FuzzRequest> = fc
  .record({
    // Now and then a request line or header beyond the API's 16 KB limit.
    oversize: fc.oneof(
      { weight: 9, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.integer({ min: 17_000, max: 40_000 }) },
    ),
    inHeader: fc.boolean(),
    method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'),
    path: fc.oneof(
      fc.constantFrom(
        '/%61dmin/queues/api/queues',
        '/%61dmin/queues/api/queues/runs/pause',
        '/admin/queues/api/queues/runs/%E0%A4%A/retry',
        '/%2e%2e/v1/runs',
        '//v1/runs',
        '/v1//runs',
        '/v1/RUNS',
        '/v1/runs/',
        '/v1/runs/../admin',
        '/v1/runs?__proto__[polluted]=1',
        '/v1/runs?limit=1&limit=2',
        '/v1/teams%00',
        '/v1',
        '/v1/',
        '/',
      ),
      hostileString.map((s) => `/v1/${encodeURIComponent(s)}`),
      fc
        .tuple(fc.constantFrom('/v1/runs/', '/v1/teams/', '/admin/runs/'), badEncoding)
        .map(([p, bad]) => `${p}${bad}`),
    ),
    auth: credential,
  })
  .map((r) => ({
    op: 'raw',
    method: r.method,
    path: r.oversize && !r.inHeader ? `/v1/runs?q=${'x'.repeat(r.oversize)}` : r.path,
    headers: {
      accept: 'application/json',
      ...(r.auth !== undefined ? { authorization: r.auth } : {}),
      ...(r.oversize && r.inHeader ? { 'x-padding': 'x'.repeat(r.oversize) } : {}),
    },
  }));

// ── sending and checking ───────────────────────────────────────────────────────────────────────────────────

const agent = new Agent({ keepAlive: true, maxSockets: PARALLEL * 2 });

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

/** Sends one request with Node's client (raw paths and bytes as generated); an event stream is read to its head only. */
function send(req: FuzzRequest): Promise<Answer> {
  const target = new URL(url);
  return new Promise((resolvePromise, reject) => {
    const r = httpRequest(
      {
        agent,
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.path,
        headers: {
          ...req.headers,
          ...(req.body !== undefined ? { 'content-length': String(req.body.length) } : {}),
        },
        timeout: 20_000,
      },
      (res) => {
        const type = String(res.headers['content-type'] ?? '');
        if (type.startsWith('text/event-stream')) {
          res.destroy();
          resolvePromise({ status: res.statusCode ?? 0, contentType: type, body: '' });
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolvePromise({
            status: res.statusCode ?? 0,
            contentType: type,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error('no answer within 20 s')));
    r.on('error', reject);
    if (req.body !== undefined) r.write(req.body);
    r.end();
  });
}

/** What is wrong with an answer, if anything. */
function problem(req: FuzzRequest, answer: Answer): string | undefined {
  if (answer.status >= 500) return `${answer.status}`;
  const pathOnly = req.path.split('?')[0] ?? '';
  if (!pathOnly.startsWith('/v1') || answer.status < 400 || req.method === 'HEAD') return undefined;
  try {
    const body = JSON.parse(answer.body) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code !== 'string' || typeof body.error.message !== 'string')
      return `${answer.status} without the envelope`;
  } catch {
    return `${answer.status} without a JSON body`;
  }
  return undefined;
}

describe('HTTP fuzz over the OpenAPI document', () => {
  it(`${TOTAL}+ generated requests across every route: no 5xx, the envelope on every /v1 4xx, memory back within 20%`, async () => {
    expect(operations.length).toBeGreaterThanOrEqual(16);
    const anyRequest = fc.oneof(...operations.map(requestFor), rawRequest);
    const histogram = new Map<number, number>();
    const perOperation = new Map<string, number>();
    const failures: string[] = [];
    let sent = 0;
    const property = fc.asyncProperty(anyRequest, async (req) => {
      let answer: Answer;
      try {
        answer = await send(req);
      } catch (err) {
        // The server closing a connection on a request it cannot parse is an answer too (no 5xx); anything else fails.
        failures.push(`${req.method} ${req.path.slice(0, 160)}: ${(err as Error).message}`);
        return true;
      }
      sent += 1;
      histogram.set(answer.status, (histogram.get(answer.status) ?? 0) + 1);
      perOperation.set(req.op, (perOperation.get(req.op) ?? 0) + 1);
      const wrong = problem(req, answer);
      if (wrong)
        failures.push(
          `${req.method} ${req.path.slice(0, 160)} [${req.op}]: ${wrong} ${answer.body.slice(0, 200)}`,
        );
      return true;
    });
    const runChains = (runs: number, seed: number) =>
      Promise.all(
        Array.from({ length: PARALLEL }, (_, i) =>
          fc.assert(property, { numRuns: Math.ceil(runs / PARALLEL), seed: seed + i, endOnFailure: true }),
        ),
      );

    // Warm up (compiled schemas, connections, lazily built routes), then measure the heap after a full GC.
    await runChains(WARM_UP, SEED + 1_000);
    const before = await memory();
    const started = performance.now();
    await runChains(TOTAL, SEED);
    const seconds = (performance.now() - started) / 1000;
    await client(url, OPERATOR_KEY).call('POST', '/v1/queue/resume');
    const after = await memory();

    const statuses = [...histogram.entries()].sort(([a], [b]) => a - b);
    const mb = (n: number) => `${(n / 1_048_576).toFixed(1)} MB`;
    console.log(
      [
        `fuzz: seed ${SEED}, ${sent} requests (${WARM_UP} of them warm-up) across ${perOperation.size} generators in ${seconds.toFixed(1)} s (${PARALLEL} in parallel)`,
        `statuses: ${statuses.map(([s, n]) => `${s}×${n}`).join(' ')}`,
        `per generator: ${[...perOperation.entries()].map(([op, n]) => `${op} ${n}`).join('; ')}`,
        `API heap after GC: ${mb(before.heapUsed)} before, ${mb(after.heapUsed)} after (${(((after.heapUsed - before.heapUsed) / before.heapUsed) * 100).toFixed(1)}%); rss ${mb(before.rss)} → ${mb(after.rss)}`,
      ].join('\n'),
    );

    expect(failures.slice(0, 30)).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(TOTAL);
    expect(perOperation.size).toBe(operations.length + 1);
    expect(after.heapUsed).toBeLessThan(before.heapUsed * 1.2);
  }, 180_000);
});
