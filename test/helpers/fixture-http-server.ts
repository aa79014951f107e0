/**
 * A real HTTP server on a loopback address with the routes safe-fetch tests need. Records every
 * request so a test can prove a refused URL never reached it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FixtureServer {
  /** `http://127.0.0.1:PORT` or `http://[::1]:PORT`. */
  readonly origin: string;
  readonly port: number;
  /** `ip:port` or `[ip]:port`, the form `unsafeAllowDestinations` takes. */
  readonly destination: string;
  readonly requests: { url: string; host: string | undefined }[];
  /** Bytes of `/big` actually written before the client went away. */
  readonly bigWritten: () => number;
  close(): Promise<void>;
}

export const IMAGE_BYTES = Buffer.from('\x89PNG\r\n\x1a\n pretend image bytes', 'latin1');
export const BIG_SIZE = 4 * 1024 * 1024;

/**
 * Routes: `/image` (200 image/png), `/sized/N` (N bytes, chunked), `/big` (4 MiB, chunked,
 * written slowly enough to notice an early close), `/declared-big` (Content-Length 1 GB, no
 * body), `/slow` (headers, then nothing), `/status/N`, `/redirect?to=URL` (302), `/chain/N`
 * (N redirects, then `/image`).
 */
export async function startFixtureServer(host: '127.0.0.1' | '::1' = '127.0.0.1'): Promise<FixtureServer> {
  const requests: FixtureServer['requests'] = [];
  let bigWritten = 0;
  const server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? '', host: req.headers.host });
    const url = new URL(req.url ?? '/', 'http://fixture');
    const [, route, arg] = url.pathname.split('/');
    switch (route) {
      case 'image':
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': IMAGE_BYTES.length }).end(IMAGE_BYTES);
        return;
      case 'sized':
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.alloc(Number(arg), 7));
        return;
      case 'big': {
        res.writeHead(200, { 'content-type': 'image/png' });
        const chunk = Buffer.alloc(64 * 1024, 1);
        const tick = setInterval(() => {
          if (res.destroyed || bigWritten >= BIG_SIZE) {
            clearInterval(tick);
            if (!res.destroyed) res.end();
            return;
          }
          bigWritten += chunk.length;
          res.write(chunk);
        }, 2);
        res.on('close', () => clearInterval(tick));
        return;
      }
      case 'declared-big':
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': 1_000_000_000 });
        res.flushHeaders();
        return;
      case 'slow':
        res.writeHead(200, { 'content-type': 'image/png' });
        res.write('a little');
        return; // never ends
      case 'status':
        res.writeHead(Number(arg)).end();
        return;
      case 'redirect':
        res.writeHead(302, { location: url.searchParams.get('to') ?? '/' }).end();
        return;
      case 'chain': {
        const left = Number(arg);
        res.writeHead(302, { location: left <= 1 ? '/image' : `/chain/${left - 1}` }).end();
        return;
      }
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const literal = host === '::1' ? '[::1]' : host;
  return {
    origin: `http://${literal}:${port}`,
    port,
    destination: `${literal}:${port}`,
    requests,
    bigWritten: () => bigWritten,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
