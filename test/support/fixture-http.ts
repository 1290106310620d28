import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { now } from './azure-openai-server.js';

/**
 * What the local protocol servers (tool server, Azure AI Search, Content Safety, OIDC issuer, webhook receiver)
 * share: a request log tests can wait on, JSON/text answers that stamp the log, fault counters, the `/_control`
 * routes that let another process script a server, and the command-line entry that prints `{"url": …}`.
 */

export interface FixtureRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** The body as received (UTF-8). */
  rawBody: string;
  /** The body parsed as JSON, or undefined when empty or not JSON. */
  body: unknown;
  /** Epoch milliseconds (fractional) when the request arrived. */
  receivedAt: number;
  /** When the answer was completely written. */
  respondedAt?: number;
  /** When the connection or response closed (either side). */
  closedAt?: number;
  /** True when the client closed the connection before the answer was complete (abort, timeout). */
  clientClosed: boolean;
  status?: number;
  /** The scripted fault this request got, if any (`fail`, `hang`, `delay`, `redirect`, …). */
  fault?: string;
}

export interface WaitOptions {
  /** Rejects after this long, naming what did arrive (default 10 s): a diagnostic, not a pacing device. */
  timeoutMs?: number;
  /** Resolve once at least this many match (default 1). */
  count?: number;
}

/** Every request a server received, with waiters woken on arrival, answer and close (no polling). */
export class RequestLog<T extends FixtureRequest = FixtureRequest> {
  readonly items: T[] = [];
  private readonly waiters = new Set<() => boolean>();

  add(record: T): T {
    this.items.push(record);
    this.notify();
    return record;
  }

  /** Wakes the waiters: call after a record changed (answered, closed, annotated). */
  notify(): void {
    for (const waiter of [...this.waiters]) if (waiter()) this.waiters.delete(waiter);
  }

  /** Resolves with the records matching `predicate` once at least `count` match. */
  waitFor(predicate: (record: T) => boolean, options: WaitOptions = {}): Promise<T[]> {
    const { timeoutMs = 10_000, count = 1 } = options;
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const matching = this.items.filter(predicate);
        if (matching.length < count) return false;
        clearTimeout(timer);
        resolve(matching);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        const seen = this.items.map((r) => `${r.method} ${r.path} → ${r.status ?? 'pending'}`).join(', ');
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${count} matching requests; got: ${seen || 'none'}`,
          ),
        );
      }, timeoutMs);
      if (!check()) this.waiters.add(check);
    });
  }

  /**
   * Records an arriving request (body still unread: see `readInto`) and watches its close: `clientClosed` when
   * the socket went away before the answer was complete.
   */
  start(req: IncomingMessage, res: ServerResponse, url: URL, extra: Omit<T, keyof FixtureRequest>): T {
    const record = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      rawBody: '',
      body: undefined,
      receivedAt: now(),
      clientClosed: false,
      ...extra,
    } as T;
    res.on('close', () => {
      record.closedAt = now();
      if (!res.writableFinished) record.clientClosed = true;
      this.notify();
    });
    res.on('finish', () => {
      record.respondedAt = now();
      this.notify();
    });
    return this.add(record);
  }
}

/** Reads the body into the record: `rawBody` always, `body` when it parses as JSON. */
export async function readInto(req: IncomingMessage, record: FixtureRequest): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  record.rawBody = Buffer.concat(chunks).toString('utf8');
  if (!record.rawBody) return;
  try {
    record.body = JSON.parse(record.rawBody);
  } catch {
    record.body = undefined;
  }
}

export function sendJson(
  res: ServerResponse,
  record: FixtureRequest | undefined,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendText(res, record, status, JSON.stringify(body), 'application/json; charset=utf-8', headers);
}

export function sendText(
  res: ServerResponse,
  record: FixtureRequest | undefined,
  status: number,
  text: string,
  contentType: string,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  if (record) record.status = status;
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'x-request-id': randomUUID(),
    ...headers,
  });
  res.end(text);
}

/** A scripted fault that applies to the next `count` requests (default: all of them). */
export interface CountedFault {
  count?: number;
}

/**
 * Counts how many requests each fault kind has been applied to since the behaviour was set, so "the next k
 * requests" faults compose in sequence: `{ fail: { count: 2 }, hang: { count: 1 } }` fails two requests, hangs the
 * third, then answers normally.
 */
export class FaultCounter {
  private readonly applied = new Map<string, number>();

  /** True (and counted) when `fault` is set and has not yet been applied `count` times. */
  take(kind: string, fault: CountedFault | undefined): boolean {
    if (!fault) return false;
    const used = this.applied.get(kind) ?? 0;
    if (used >= (fault.count ?? Number.POSITIVE_INFINITY)) return false;
    this.applied.set(kind, used + 1);
    return true;
  }
}

export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  const token = typeof auth === 'string' ? /^Bearer\s+(.+)$/i.exec(auth)?.[1]?.trim() : undefined;
  return token || undefined;
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The `/_control` routes: `PUT /_control/behaviour` (JSON body → `setBehaviour`), `GET /_control/requests`, and
 * `GET /_control/{name}` for each entry of `extra`. Returns false when the path is not a control route.
 */
export async function handleControl(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  control: {
    setBehaviour: (behaviour: never) => void;
    requests: () => unknown;
    extra?: Record<string, () => unknown>;
  },
): Promise<boolean> {
  if (!url.pathname.startsWith('/_control/')) return false;
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  const name = url.pathname.slice('/_control/'.length);
  if (name === 'behaviour' && req.method === 'PUT') {
    // The behaviour arrives as JSON from another process; its shape is the server's own behaviour type.
    control.setBehaviour((raw ? JSON.parse(raw) : {}) as never);
    sendJson(res, undefined, 200, {});
  } else if (name === 'requests' && req.method === 'GET') {
    sendJson(res, undefined, 200, control.requests());
  } else if (req.method === 'GET' && control.extra?.[name]) {
    sendJson(res, undefined, 200, control.extra[name]());
  } else {
    sendJson(res, undefined, 404, { error: `unknown control route ${req.method} ${url.pathname}` });
  }
  return true;
}

/** Wraps an async handler so a thrown error becomes a 500 instead of an unhandled rejection. */
export function guarded(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.destroyed) return;
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'InternalServerError', message: String(err) } }));
    });
  };
}

/**
 * The command-line entry of a server module: starts it on `argv[2]` (default: a free port), prints `{"url": …}`
 * (or what `announce` returns) as one JSON line and stops on SIGTERM/SIGINT.
 */
export function serveFromCommandLine<T extends { url: string; close(): Promise<void> }>(
  start: (port: number) => Promise<T>,
  announce: (server: T) => Record<string, unknown> = (server) => ({ url: server.url }),
) {
  const port = Number(process.argv[2] ?? 0);
  start(port).then(
    (server) => {
      process.stdout.write(`${JSON.stringify(announce(server))}\n`);
      const stop = () => void server.close().then(() => process.exit(0));
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    },
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    },
  );
}

/** A stable 32-bit hash (FNV-1a) for deterministic fixtures. */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
