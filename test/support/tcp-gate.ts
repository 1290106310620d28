import type { AddressInfo } from 'node:net';
import { connect, createServer, type Socket } from 'node:net';

/**
 * A TCP relay in front of a server that holds every connection until `open()`: a process behind it is stuck in
 * start-up (its first Redis command never answers) for exactly as long as a test needs, with no clock involved.
 */
export interface TcpGate {
  url: string;
  /** Connections accepted so far (held or relayed). */
  connections(): number;
  open(): void;
  close(): Promise<void>;
}

export async function startTcpGate(target: string): Promise<TcpGate> {
  const upstream = new URL(target);
  const held: Socket[] = [];
  const sockets = new Set<Socket>();
  let accepted = 0;
  let opened = false;
  const relay = (client: Socket) => {
    const server = connect(Number(upstream.port), upstream.hostname);
    sockets.add(server);
    client.pipe(server).pipe(client);
    const end = () => {
      client.destroy();
      server.destroy();
    };
    client.on('error', end).on('close', end);
    server.on('error', end).on('close', end);
  };
  const gate = createServer((client) => {
    accepted += 1;
    sockets.add(client);
    if (opened) relay(client);
    else {
      client.pause();
      client.on('error', () => client.destroy());
      held.push(client);
    }
  });
  await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
  const { port } = gate.address() as AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    connections: () => accepted,
    open() {
      opened = true;
      for (const client of held.splice(0)) {
        if (!client.destroyed) relay(client);
      }
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => gate.close(() => resolve()));
    },
  };
}
