import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { closeServer, listen, now, sleep } from './azure-openai-server.js';
import {
  type CountedFault,
  FaultCounter,
  type FixtureRequest,
  guarded,
  handleControl,
  header,
  RequestLog,
  readInto,
  sendJson,
  sendText,
  serveFromCommandLine,
  stableHash,
  type WaitOptions,
} from './fixture-http.js';

/**
 * A small JSON HTTP API standing in for an operator's internal service that agents call as tools.
 *
 * - `GET  /v1/orders/{orderId}` — `{ orderId, status, deliveryDate, items, total, currency }`, deterministic per
 *   id: ids of the form `ORD-<digits>` exist (plus any given in `orders`); others get 404
 *   `{ error: { code: 'order_not_found', message } }`.
 * - `POST /v1/refunds` — JSON `{ orderId, amount, currency?, reason? }` → 201 with a new refund. A side effect
 *   that is *not* idempotent: every call creates a refund, unless `honourIdempotencyKey` is set, in which case a
 *   repeated `Idempotency-Key` answers the first refund again (200). 400 for a bad body, 404 for an unknown order.
 * - `GET  /echo` (any method) — `{ method, path, query, headers, body }` of the request.
 *
 * Calls are counted per route (`calls['GET /v1/orders/{orderId}']`, faulted ones included) and every request is
 * recorded with its `Idempotency-Key`. Required headers (auth) are checked when `requiredHeaders` is set (401).
 *
 * Scripted faults (`setBehaviour`), each for the next `count` requests (default all), applied in this order, at
 * most one answer-changing fault per request: `hang` (never answered; `clientClosed` tells whether the client gave
 * up), `fail` (status N, optional body/headers), `redirect` (to another origin, same path), `largeBody` (a 200 JSON
 * answer of `bytes` bytes, streamed), `nonJson` (a 200 `text/html` page). `delay` adds latency to the next `count`
 * requests whatever else they get. `paths` limits faults to requests whose path starts with one of them.
 *
 * From another process: `node --import tsx test/support/tool-server.ts [port]` prints `{"url": …}`; script it with
 * `PUT /_control/behaviour`, inspect `GET /_control/requests` and `GET /_control/state` (`{ calls, refunds }`).
 */

export const ORDER_ROUTE = 'GET /v1/orders/{orderId}';
export const REFUND_ROUTE = 'POST /v1/refunds';
export const ECHO_ROUTE = 'GET /echo';

export interface ToolRequest extends FixtureRequest {
  /** The route template the request matched (`GET /v1/orders/{orderId}`), or undefined for unknown paths. */
  route: string | undefined;
  /** The `Idempotency-Key` header, when sent. */
  idempotencyKey: string | undefined;
}

export interface Order {
  orderId: string;
  status: 'processing' | 'shipped' | 'delivered' | 'cancelled';
  /** ISO date (YYYY-MM-DD). */
  deliveryDate: string;
  items: number;
  total: number;
  currency: string;
}

export interface Refund {
  id: string;
  orderId: string;
  amount: number;
  currency: string;
  reason: string | null;
  status: 'pending';
  idempotencyKey: string | null;
  createdAt: string;
}

export interface ToolServerBehaviour {
  /** Faults apply only to requests whose path starts with one of these (default: every route). */
  paths?: string[];
  /** Never answered. */
  hang?: CountedFault;
  /** Wait `ms` before handling (the client may give up meanwhile: see `clientClosed`). */
  delay?: CountedFault & { ms: number };
  /** Answer `status` (default body `{ error: { code: 'scripted_failure', message } }`). */
  fail?: CountedFault & { status: number; body?: unknown; headers?: Record<string, string> };
  /** Answer `status` (default 302) with `Location: {to}{path}{query}`; `to` is another origin (http://host:port). */
  redirect?: CountedFault & { to: string; status?: 301 | 302 | 303 | 307 | 308 };
  /** A 200 JSON answer `{"data":"xxx…"}` of exactly `bytes` bytes (at least 11), written in 64 KiB chunks. */
  largeBody?: CountedFault & { bytes: number };
  /** A 200 answer that is not JSON (default an HTML error page). */
  nonJson?: CountedFault & { body?: string; contentType?: string };
}

export interface ToolServerOptions {
  port?: number;
  /** Orders that exist beside the `ORD-<digits>` ones (or override them). */
  orders?: Record<string, Omit<Order, 'orderId'>>;
  /** Headers every request must carry with these exact values (names case-insensitive), else 401. */
  requiredHeaders?: Record<string, string>;
  /** A repeated Idempotency-Key on `POST /v1/refunds` answers the first refund instead of creating another. */
  honourIdempotencyKey?: boolean;
  behaviour?: ToolServerBehaviour;
}

export interface ToolServer {
  url: string;
  port: number;
  requests: ToolRequest[];
  /** Calls per route template (`ORDER_ROUTE`, `REFUND_ROUTE`, `ECHO_ROUTE`), faulted ones included. */
  calls: Record<string, number>;
  /** The `Idempotency-Key` of every request in arrival order (undefined when absent). */
  idempotencyKeys: (string | undefined)[];
  /** Refunds created, in order. */
  refunds: Refund[];
  /** Replaces the behaviour and restarts its fault counters. */
  setBehaviour(behaviour: ToolServerBehaviour): void;
  /** Resolves once `count` recorded requests match (woken on arrival, answer and close). */
  waitForRequest(predicate: (request: ToolRequest) => boolean, options?: WaitOptions): Promise<ToolRequest[]>;
  close(): Promise<void>;
}

const STATUSES: Order['status'][] = ['processing', 'shipped', 'delivered', 'cancelled'];

/** The order `ORD-<digits>` deterministically derived from its number (undefined for other ids). */
export function derivedOrder(orderId: string): Order | undefined {
  const match = /^ORD-(\d{1,9})$/.exec(orderId);
  if (!match) return undefined;
  const n = Number(match[1]);
  const hash = stableHash(orderId);
  const delivery = new Date(Date.UTC(2025, 0, 1) + (n % 365) * 86_400_000);
  return {
    orderId,
    status: STATUSES[n % STATUSES.length] ?? 'processing',
    deliveryDate: delivery.toISOString().slice(0, 10),
    items: 1 + (hash % 5),
    total: Math.round((10 + (hash % 49_000) / 100) * 100) / 100,
    currency: 'EUR',
  };
}

export async function startToolServer(options: ToolServerOptions = {}): Promise<ToolServer> {
  const log = new RequestLog<ToolRequest>();
  const calls: Record<string, number> = {};
  const idempotencyKeys: (string | undefined)[] = [];
  const refunds: Refund[] = [];
  let behaviour = options.behaviour ?? {};
  let faults = new FaultCounter();

  const findOrder = (orderId: string): Order | undefined => {
    const given = options.orders?.[orderId];
    return given ? { orderId, ...given } : derivedOrder(orderId);
  };

  const routeOf = (method: string, path: string): string | undefined => {
    if (method === 'GET' && /^\/v1\/orders\/[^/]+$/.test(path)) return ORDER_ROUTE;
    if (method === 'POST' && path === '/v1/refunds') return REFUND_ROUTE;
    if (path === '/echo') return ECHO_ROUTE;
    return undefined;
  };

  const authorized = (req: IncomingMessage): boolean =>
    Object.entries(options.requiredHeaders ?? {}).every(
      ([name, value]) => header(req.headers, name) === value,
    );

  async function writeLargeBody(res: ServerResponse, record: ToolRequest, bytes: number): Promise<void> {
    const prefix = '{"data":"';
    const suffix = '"}';
    const size = Math.max(bytes, prefix.length + suffix.length);
    record.status = 200;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(size) });
    let remaining = size - prefix.length - suffix.length;
    res.write(prefix);
    const chunk = 'x'.repeat(64 * 1024);
    while (remaining > 0 && !res.destroyed) {
      const piece = remaining >= chunk.length ? chunk : chunk.slice(0, remaining);
      remaining -= piece.length;
      if (!res.write(piece)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
      }
    }
    if (!res.destroyed) res.end(suffix);
  }

  /** Applies the scripted fault, if any; true when it answered (or deliberately never will). */
  async function applyFaults(
    req: IncomingMessage,
    res: ServerResponse,
    record: ToolRequest,
  ): Promise<boolean> {
    const b = behaviour;
    const counter = faults;
    if (b.paths && !b.paths.some((p) => record.path.startsWith(p))) return false;
    if (counter.take('delay', b.delay)) {
      record.fault = 'delay';
      await sleep(b.delay?.ms ?? 0);
      if (res.destroyed) return true;
    }
    if (counter.take('hang', b.hang)) {
      record.fault = 'hang';
      log.notify();
      return true;
    }
    if (counter.take('fail', b.fail) && b.fail) {
      record.fault = 'fail';
      const body = b.fail.body ?? {
        error: { code: 'scripted_failure', message: `Scripted failure with status ${b.fail.status}.` },
      };
      sendJson(res, record, b.fail.status, body, b.fail.headers);
      return true;
    }
    if (counter.take('redirect', b.redirect) && b.redirect) {
      record.fault = 'redirect';
      const location = new URL(req.url ?? '/', b.redirect.to).href;
      sendJson(res, record, b.redirect.status ?? 302, { redirect: location }, { location });
      return true;
    }
    if (counter.take('largeBody', b.largeBody) && b.largeBody) {
      record.fault = 'largeBody';
      await writeLargeBody(res, record, b.largeBody.bytes);
      return true;
    }
    if (counter.take('nonJson', b.nonJson) && b.nonJson) {
      record.fault = 'nonJson';
      const body =
        b.nonJson.body ??
        '<html><head><title>502 Bad Gateway</title></head><body>upstream error</body></html>';
      sendText(res, record, 200, body, b.nonJson.contentType ?? 'text/html; charset=utf-8');
      return true;
    }
    return false;
  }

  function orders(res: ServerResponse, record: ToolRequest) {
    const orderId = decodeURIComponent(record.path.slice('/v1/orders/'.length));
    const order = findOrder(orderId);
    if (!order) {
      return sendJson(res, record, 404, {
        error: { code: 'order_not_found', message: `No order with id '${orderId}'.` },
      });
    }
    sendJson(res, record, 200, order);
  }

  function refund(res: ServerResponse, record: ToolRequest) {
    const body = record.body as Partial<{
      orderId: unknown;
      amount: unknown;
      currency: unknown;
      reason: unknown;
    }>;
    if (typeof body !== 'object' || body === null) {
      return sendJson(res, record, 400, {
        error: { code: 'invalid_body', message: 'Expected a JSON object.' },
      });
    }
    if (typeof body.orderId !== 'string' || typeof body.amount !== 'number' || !(body.amount > 0)) {
      return sendJson(res, record, 400, {
        error: {
          code: 'invalid_body',
          message: "'orderId' (string) and 'amount' (positive number) are required.",
        },
      });
    }
    const order = findOrder(body.orderId);
    if (!order) {
      return sendJson(res, record, 404, {
        error: { code: 'order_not_found', message: `No order with id '${body.orderId}'.` },
      });
    }
    const key = record.idempotencyKey;
    if (options.honourIdempotencyKey && key) {
      const earlier = refunds.find((r) => r.idempotencyKey === key);
      if (earlier) return sendJson(res, record, 200, earlier);
    }
    const created: Refund = {
      id: `rf_${String(refunds.length + 1).padStart(6, '0')}`,
      orderId: body.orderId,
      amount: body.amount,
      currency: typeof body.currency === 'string' ? body.currency : order.currency,
      reason: typeof body.reason === 'string' ? body.reason : null,
      status: 'pending',
      idempotencyKey: key ?? null,
      createdAt: new Date(now()).toISOString(),
    };
    refunds.push(created);
    sendJson(res, record, 201, created, { location: `/v1/refunds/${created.id}` });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const controlled = await handleControl(req, res, url, {
      setBehaviour: (next: ToolServerBehaviour) => {
        behaviour = next;
        faults = new FaultCounter();
      },
      requests: () => log.items,
      extra: { state: () => ({ calls, refunds }) },
    });
    if (controlled) return;

    const method = req.method ?? 'GET';
    const route = routeOf(method, url.pathname);
    const idempotencyKey = header(req.headers, 'idempotency-key');
    const record = log.start(req, res, url, { route, idempotencyKey });
    idempotencyKeys.push(idempotencyKey);
    if (route) calls[route] = (calls[route] ?? 0) + 1;
    await readInto(req, record);

    if (!authorized(req)) {
      return sendJson(res, record, 401, {
        error: { code: 'unauthorized', message: 'Missing or wrong credentials.' },
      });
    }
    if (await applyFaults(req, res, record)) return;
    if (route === ORDER_ROUTE) return orders(res, record);
    if (route === REFUND_ROUTE) {
      if (record.rawBody && record.body === undefined) {
        return sendJson(res, record, 400, {
          error: { code: 'invalid_json', message: 'The body is not JSON.' },
        });
      }
      return refund(res, record);
    }
    if (route === ECHO_ROUTE) {
      return sendJson(res, record, 200, {
        method,
        path: record.path,
        query: record.query,
        headers: record.headers,
        body: record.body ?? (record.rawBody || null),
      });
    }
    sendJson(res, record, 404, {
      error: { code: 'not_found', message: `No route ${method} ${url.pathname}.` },
    });
  }

  const server: Server = createServer(guarded(handle));
  return listen(server, options.port ?? 0, (url, port) => ({
    url,
    port,
    requests: log.items,
    calls,
    idempotencyKeys,
    refunds,
    setBehaviour(next) {
      behaviour = next;
      faults = new FaultCounter();
    },
    waitForRequest: (predicate, waitOptions) => log.waitFor(predicate, waitOptions),
    close: () => closeServer(server),
  }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  serveFromCommandLine((port) => startToolServer({ port }));
}
