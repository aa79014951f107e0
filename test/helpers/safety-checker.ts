import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a stand-in safety checker received: the decoded request body. */
export interface CheckerRequest {
  readonly path: string;
  readonly contentType: string | undefined;
  readonly body: { image_b64?: unknown };
}

/**
 * A stand-in external safety checker (`POST {image_b64}` → `{flagged, scores}`). `/flag` flags
 * everything with porn 0.9, `/clean` nothing; `/broken` answers 500, `/nonsense` a body
 * without `flagged`, `/slow` never answers.
 */
export async function startSafetyChecker() {
  const seen: CheckerRequest[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    req.on('end', () => {
      const path = req.url ?? '';
      if (path.startsWith('/slow')) return;
      seen.push({ path, contentType: req.headers['content-type'], body: JSON.parse(raw) as CheckerRequest['body'] });
      const json = (value: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (path.startsWith('/broken')) return void res.writeHead(500).end('boom');
      if (path.startsWith('/nonsense')) return json({ verdict: 'fine' });
      if (path.startsWith('/flag')) return json({ flagged: true, scores: { porn: 0.9, neutral: 0.1 } });
      json({ flagged: false, scores: { drawing: 0.2, neutral: 0.8 } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A loopback URL nothing listens on: a checker that is down. */
export async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}/check`;
}
