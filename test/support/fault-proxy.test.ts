import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';

/** An event stream that sends its whole backlog in one write and then stays open, as a run's stream can. */
let upstream: Server;
let proxy: FaultProxy;

beforeAll(async () => {
  upstream = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(
      Array.from({ length: 5 }, (_, i) => `id: ${i + 1}-0\nevent: step\ndata: {"n":${i + 1}}\n\n`).join(''),
    );
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  proxy = await startFaultProxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
});

afterAll(async () => {
  await proxy.close();
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
});

describe('fault proxy: cut-stream', () => {
  it('delivers exactly the events before the cut when they arrive in one chunk, then closes', async () => {
    proxy.add({ path: /^\/events$/, fault: { kind: 'cut-stream', afterEvents: 2 }, count: 1 });
    const response = await fetch(`${proxy.url}/events`);
    let text = '';
    const decoder = new TextDecoder();
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
    } catch {
      // The cut may surface as a terminated body: what arrived before it is what counts.
    }
    expect(text.match(/^id: .*$/gm)).toEqual(['id: 1-0', 'id: 2-0']);
  });
});
