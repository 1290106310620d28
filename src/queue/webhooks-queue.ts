import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WebhookDelivery, WebhookPort } from '../core/ports.js';
import { WEBHOOKS_QUEUE } from './names.js';

export interface WebhookQueueSettings {
  prefix: string;
  /** Attempts per delivery, the first included. */
  attempts: number;
  /** First retry delay; doubled on each further attempt. */
  backoffMs: number;
  retentionSeconds: number;
}

/**
 * The `webhooks` queue: a delivery is a job of its own (id = delivery id), retried with exponential backoff
 * independently of the run, so a slow or failing receiver never holds up a run or a run worker.
 */
export function createWebhooksQueue(
  connection: Redis,
  settings: WebhookQueueSettings,
): Queue<WebhookDelivery> {
  return new Queue<WebhookDelivery>(WEBHOOKS_QUEUE, {
    connection,
    prefix: settings.prefix,
    defaultJobOptions: {
      attempts: settings.attempts,
      backoff: { type: 'exponential', delay: settings.backoffMs },
      removeOnComplete: { age: settings.retentionSeconds, count: 10_000 },
      removeOnFail: { age: settings.retentionSeconds },
    },
  });
}

export function webhookQueuePort(queue: Queue<WebhookDelivery>): WebhookPort {
  return {
    async deliver(delivery) {
      await queue.add(delivery.type, delivery, { jobId: delivery.id });
    },
  };
}
