import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { RefusedError } from '../core/errors.js';
import type { RunEventInput } from '../core/events.js';
import type { HostList } from '../core/host-list.js';
import type { WebhookPort } from '../core/ports.js';
import {
  defaultWebhookEvents,
  isWebhookEventType,
  type Webhook,
  type WebhookDelivery,
} from '../runs/schema.js';
import type { RunWrites } from './run-writes.js';

export interface WebhookDeps {
  writes: RunWrites;
  /** Where deliveries go; undefined when webhooks are off (no secret or no allowed hosts). */
  port: WebhookPort | undefined;
  hosts: HostList | undefined;
  log: Logger;
}

/**
 * A run's webhook: checked when the run is created (its host must be allowed), and told of the run's events that
 * it subscribes to. Each delivery gets an id and a fixed body `{ id, type, runId, createdAt, data }` and goes to
 * the `webhooks` queue, whose workers sign, send and retry it.
 */
export class RunWebhooks {
  constructor(private readonly deps: WebhookDeps) {}

  /** Refuses (400) a webhook while webhooks are off, or aimed at a host BATON_WEBHOOK_HOSTS does not allow. */
  check(webhook: Webhook | undefined): void {
    if (!webhook) return;
    if (!this.deps.port || !this.deps.hosts) {
      throw new RefusedError(
        'invalid',
        'WEBHOOKS_OFF',
        'This service sends no webhooks: its operator has not set BATON_WEBHOOK_HOSTS and BATON_WEBHOOK_SECRET.',
      );
    }
    const url = new URL(webhook.url);
    if (url.username || url.password || !this.deps.hosts.allows(url)) {
      throw new RefusedError(
        'invalid',
        'WEBHOOK_NOT_ALLOWED',
        `Webhooks may not be sent to ${url.host}: it is not among the hosts this service allows.`,
        { allowed: this.deps.hosts.entries },
      );
    }
  }

  /** Queues a delivery of `event` when the run has a webhook subscribed to its type. Never throws. */
  async notify(runId: string, event: RunEventInput): Promise<void> {
    const port = this.deps.port;
    if (!port) return;
    try {
      const webhook = await this.deps.writes.webhookOf(runId);
      if (!webhook) return;
      const types: readonly string[] = webhook.events ?? defaultWebhookEvents;
      if (!isWebhookEventType(event.type) || !types.includes(event.type)) return;
      const id = randomUUID();
      const { type: _, ...data } = event;
      const delivery: WebhookDelivery = {
        id,
        type: event.type,
        runId,
        createdAt: new Date().toISOString(),
        data,
      };
      const body = JSON.stringify(delivery);
      await port.deliver({ id, runId, url: webhook.url, type: event.type, body });
    } catch (err) {
      this.deps.log.warn({ err, runId, type: event.type }, 'could not queue a webhook delivery');
    }
  }
}
