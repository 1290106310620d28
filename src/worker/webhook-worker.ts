import { createHmac } from 'node:crypto';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { toErrorInfo } from '../core/errors.js';
import type { HostList } from '../core/host-list.js';
import type { WebhookDelivery } from '../core/ports.js';
import { WEBHOOKS_QUEUE } from '../queue/names.js';
import type { DeliveryAttempt } from '../runs/schema.js';

export interface WebhookWorkerDeps {
  connection: Redis;
  prefix: string;
  secret: string;
  hosts: HostList;
  timeoutMs: number;
  concurrency: number;
  /** Records each attempt with its run (the run record's `deliveries`). */
  record(runId: string, attempt: DeliveryAttempt): Promise<void>;
  log: Logger;
}

/** `Baton-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export function signatureHeader(body: string, secret: string, seconds: number): string {
  const v1 = createHmac('sha256', secret).update(`${seconds}.${body}`).digest('hex');
  return `t=${seconds},v1=${v1}`;
}

/** One attempt: a signed POST, no redirects followed, bounded in time; anything but a 2xx is retried. */
async function send(deps: WebhookWorkerDeps, job: Job<WebhookDelivery>): Promise<void> {
  const delivery = job.data;
  const base = { delivery: delivery.id, type: delivery.type, attempt: job.attemptsMade + 1 };
  const url = new URL(delivery.url);
  if (!deps.hosts.allows(url)) {
    await deps.record(delivery.runId, {
      ...base,
      error: 'host no longer allowed',
      at: new Date().toISOString(),
    });
    throw new UnrecoverableError(`WEBHOOK_NOT_ALLOWED: ${url.host} is not among the allowed hosts`);
  }
  let status: number;
  try {
    const res = await fetch(url, {
      method: 'POST',
      body: delivery.body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'baton-webhooks',
        'baton-delivery': delivery.id,
        'baton-signature': signatureHeader(delivery.body, deps.secret, Math.floor(Date.now() / 1000)),
      },
      redirect: 'manual',
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
    status = res.status;
    await res.body?.cancel();
  } catch (err) {
    const error =
      err instanceof Error && err.name === 'TimeoutError' ? 'timed out' : toErrorInfo(err).message;
    await deps.record(delivery.runId, { ...base, error, at: new Date().toISOString() });
    throw new Error(`webhook delivery failed: ${error}`);
  }
  await deps.record(delivery.runId, { ...base, status, at: new Date().toISOString() });
  if (status < 200 || status >= 300) throw new Error(`the receiver answered HTTP ${status}`);
}

/**
 * The worker of the `webhooks` queue: signs and sends each delivery, records every attempt with its run, and
 * lets BullMQ retry a failed one with exponential backoff (the queue's job options).
 */
export async function startWebhookWorker(deps: WebhookWorkerDeps): Promise<{ close(): Promise<void> }> {
  const worker = new Worker<WebhookDelivery>(WEBHOOKS_QUEUE, (job) => send(deps, job), {
    connection: deps.connection,
    prefix: deps.prefix,
    concurrency: deps.concurrency,
    autorun: true,
  });
  worker.on('failed', (job, err) => {
    deps.log.warn(
      { runId: job?.data.runId, delivery: job?.id, err: err.message },
      'webhook delivery attempt failed',
    );
  });
  worker.on('error', (err) => deps.log.error({ err: toErrorInfo(err) }, 'webhook worker error'));
  await worker.waitUntilReady();
  return { close: () => worker.close() };
}
