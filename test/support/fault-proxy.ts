import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP proxy in front of a baton API that injects the faults clients must survive: a throttling answer
 * (429 with Retry-After), a response lost after the request was done (the socket is destroyed), and an event stream
 * cut after a number of events. Each fault applies to the next `count` matching requests.
 */

export type Fault =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: unknown }
  | { kind: 'drop-response' }
  | { kind: 'cut-stream'; afterEvents: number };

export interface FaultRule {
  method?: string;
  /** Matches the request path (without the query). */
  path: RegExp;
  fault: Fault;
  count: number;
}

export interface FaultProxy {
  url: string;
  /** Every request that passed through: method, path, headers and when. */
  requests: { method: string; path: string; headers: IncomingMessage['headers']; at: number }[];
  add(rule: FaultRule): void;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const rules: FaultRule[] = [];
  const requests: FaultProxy['requests'] = [];
  const upstream = new URL(target);

  const forward = (req: IncomingMessage, res: ServerResponse, fault: Fault | undefined) => {
    const proxied = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        if (fault?.kind === 'drop-response') {
          answer.resume();
          answer.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (fault?.kind !== 'cut-stream') {
          answer.pipe(res);
          return;
        }
        // Forwards whole messages up to the cut, then closes the connection once they are written: a backlog
        // that arrives in one chunk is cut inside it, and what was forwarded reaches the client first.
        let events = 0;
        let cut = false;
        answer.on('data', (chunk: Buffer) => {
          if (cut) return;
          let text = chunk.toString();
          let end = 0;
          while (events < fault.afterEvents) {
            const boundary = text.indexOf('\n\n', end);
            if (boundary < 0) break;
            end = boundary + 2;
            events += 1;
          }
          if (events < fault.afterEvents) {
            res.write(chunk);
            return;
          }
          cut = true;
          text = text.slice(0, end);
          answer.destroy();
          res.write(text, () => res.socket?.destroy());
        });
        answer.on('end', () => res.end());
      },
    );
    proxied.on('error', () => res.destroy());
    req.pipe(proxied);
  };

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    requests.push({ method: req.method ?? '', path, headers: req.headers, at: Date.now() });
    const rule = rules.find(
      (r) => r.count > 0 && r.path.test(path) && (!r.method || r.method === req.method),
    );
    if (rule) rule.count -= 1;
    const fault = rule?.fault;
    if (fault?.kind === 'status') {
      req.resume();
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
      res.end(JSON.stringify(fault.body ?? { error: { code: 'INJECTED', message: 'An injected fault.' } }));
      return;
    }
    forward(req, res, fault);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    add: (rule) => rules.push(rule),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
