import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { BatonApiError, BatonConnectionError } from './errors.js';
import { delayBeforeRetry, sleep } from './retry.js';
import type { Transport } from './transport.js';
import { type RunEvent, type StreamedEvent, terminalEventTypes } from './types.js';

export interface StreamOptions {
  /** Resume after this event (the `eventId` of the last event you saw). */
  lastEventId?: string;
  signal?: AbortSignal;
}

/** Messages of one SSE response, as they arrive. */
async function* messagesOf(response: Response): AsyncGenerator<EventSourceMessage> {
  const body = response.body;
  if (!body) return;
  const arrived: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (message) => arrived.push(message) });
  const reader = body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      parser.feed(decoder.decode(value, { stream: true }));
      while (arrived.length > 0) yield arrived.shift() as EventSourceMessage;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/**
 * A run's events, from the first (or after `lastEventId`) to the terminal one. A dropped connection is reopened
 * with `Last-Event-ID`, so no event is lost or repeated; consecutive reconnects that bring nothing new are bounded
 * by the client's retry settings.
 */
export async function* streamRunEvents(
  transport: Transport,
  runId: string,
  options: StreamOptions & { maxRetries: number; maxDelayMs: number },
): AsyncGenerator<StreamedEvent> {
  let lastEventId = options.lastEventId;
  let fruitless = 0;
  for (;;) {
    let progressed = false;
    try {
      const response = await transport.send({
        method: 'GET',
        path: `/v1/runs/${encodeURIComponent(runId)}/events`,
        headers: { accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
        signal: options.signal,
        resendAfterNetworkError: true,
      });
      for await (const message of messagesOf(response)) {
        if (!message.data) continue;
        const event = JSON.parse(message.data) as RunEvent;
        if (message.id) lastEventId = message.id;
        progressed = true;
        yield { ...event, eventId: message.id ?? '' };
        if (terminalEventTypes.includes(event.type)) return;
      }
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (err instanceof BatonApiError) throw err;
      if (!(err instanceof BatonConnectionError) && !(err instanceof TypeError)) throw err;
    }
    fruitless = progressed ? 0 : fruitless + 1;
    if (fruitless > options.maxRetries) {
      throw new BatonConnectionError(
        `The event stream of run ${runId} keeps closing without new events.`,
        undefined,
      );
    }
    await sleep(delayBeforeRetry(fruitless || 1, undefined, options), options.signal);
  }
}
