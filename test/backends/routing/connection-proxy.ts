import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** A TCP proxy in front of one test server; see {@link startConnectionProxy}. */
export interface ConnectionProxy {
  /** `http://127.0.0.1:<port>`: use it in place of the server's URL. */
  readonly url: string;
  /** Resets every connection through the proxy (both sides, TCP RST); it keeps listening. Returns how many it reset. */
  dropConnections(): number;
  /** Resets every connection and stops listening; safe to call twice. */
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of a test server that does not expose its sockets, so a contract
 * fixture can drop the connections a running job uses (BackendFixture.dropConnectionMidJob)
 * the way a load balancer resetting them would, without touching the server or its fake.
 *
 * @example const proxy = await startConnectionProxy(fake.url); createA1111Backend({ url: proxy.url, … }); proxy.dropConnections();
 */
export async function startConnectionProxy(target: string): Promise<ConnectionProxy> {
  const upstream = new URL(target);
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const server = net.createServer((client) => {
    const origin = net.connect(Number(upstream.port), upstream.hostname);
    track(client);
    track(origin);
    // Whichever side ends or fails, the other goes too, as a broken path would.
    const end = () => {
      if (!client.destroyed) client.resetAndDestroy();
      if (!origin.destroyed) origin.resetAndDestroy();
    };
    for (const socket of [client, origin]) {
      socket.on('error', end);
      socket.on('close', end);
    }
    client.pipe(origin);
    origin.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const drop = () => {
    const open = [...sockets].filter((socket) => !socket.destroyed);
    for (const socket of open) socket.resetAndDestroy();
    return open.length;
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    dropConnections: drop,
    async close() {
      drop();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
