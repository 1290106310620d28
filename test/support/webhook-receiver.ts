import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { closeServer, listen, sleep } from './azure-openai-server.js';
import {
  type CountedFault,
  FaultCounter,
  type FixtureRequest,
  guarded,
  handleControl,
  RequestLog,
  readInto,
  sendJson,
  serveFromCommandLine,
  type WaitOptions,
} from './fixture-http.js';

/**
 * A local webhook receiver: records every `POST` (any path) with its headers, raw body text (for signature
 * checks), parsed JSON and arrival time, and answers 200 `{ "received": true }` by default.
 *
 * Scripted faults (`setBehaviour`), each for the next `count` deliveries (default all), in this order: `hang`
 * (never answered; `clientClosed` tells whether the sender gave up), `fail` (status N, e.g. 500 or 410, with
 * optional headers such as `retry-after`). `latencyMs` delays every answer. Other methods get 405 and are not
 * deliveries (they are still in `requests`).
 *
 * `waitFor(predicate, { count })` resolves once enough matching deliveries have arrived — woken by each arrival,
 * never by polling.
 *
 * From another process: `node --import tsx test/support/webhook-receiver.ts [port]` prints `{"url": …}`;
 * `PUT /_control/behaviour`, `GET /_control/requests` (every request), `GET /_control/deliveries`.
 */

export interface WebhookDelivery extends FixtureRequest {
  /** The answer this delivery got (200 unless scripted), set once answered. */
  status?: number;
}

export interface WebhookBehaviour {
  hang?: CountedFault;
  fail?: CountedFault & { status: number; headers?: Record<string, string> };
  latencyMs?: number;
}

export interface WebhookReceiverOptions {
  port?: number;
  behaviour?: WebhookBehaviour;
}

export interface WebhookReceiver {
  url: string;
  port: number;
  /** Every POST, in arrival order: `rawBody` is the exact text, `body` the parsed JSON (undefined if not JSON). */
  deliveries: WebhookDelivery[];
  /** Every request, deliveries and refused methods alike. */
  requests: FixtureRequest[];
  setBehaviour(behaviour: WebhookBehaviour): void;
  /** Resolves with the matching deliveries once at least `count` (default 1) have arrived. */
  waitFor(
    predicate: (delivery: WebhookDelivery) => boolean,
    options?: WaitOptions,
  ): Promise<WebhookDelivery[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const log = new RequestLog();
  const deliveries = new RequestLog<WebhookDelivery>();
  let behaviour = options.behaviour ?? {};
  let faults = new FaultCounter();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const controlled = await handleControl(req, res, url, {
      setBehaviour: (next: WebhookBehaviour) => {
        behaviour = next;
        faults = new FaultCounter();
      },
      requests: () => log.items,
      extra: { deliveries: () => deliveries.items },
    });
    if (controlled) return;
    const record = log.start(req, res, url, {});
    if (req.method !== 'POST') {
      await readInto(req, record);
      return sendJson(res, record, 405, { error: 'method not allowed' }, { allow: 'POST' });
    }
    await readInto(req, record);
    // The same record object is in both logs, so waiters on either see its answer and close.
    res.on('close', () => deliveries.notify());
    res.on('finish', () => deliveries.notify());
    deliveries.add(record);

    const b = behaviour;
    const counter = faults;
    if (counter.take('hang', b.hang)) {
      record.fault = 'hang';
      deliveries.notify();
      return;
    }
    await sleep(b.latencyMs ?? 0);
    if (res.destroyed) return;
    if (counter.take('fail', b.fail) && b.fail) {
      record.fault = 'fail';
      return sendJson(
        res,
        record,
        b.fail.status,
        { error: `scripted status ${b.fail.status}` },
        b.fail.headers,
      );
    }
    sendJson(res, record, 200, { received: true });
  }

  const server: Server = createServer(guarded(handle));
  return listen(server, options.port ?? 0, (url, port) => ({
    url,
    port,
    deliveries: deliveries.items,
    requests: log.items,
    setBehaviour(next) {
      behaviour = next;
      faults = new FaultCounter();
    },
    waitFor: (predicate, waitOptions) => deliveries.waitFor(predicate, waitOptions),
    close: () => closeServer(server),
  }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  serveFromCommandLine((port) => startWebhookReceiver({ port }));
}
