/**
 * A real HTTP file server on 127.0.0.1 for download tests: Range and If-Range as RFC 9110 has
 * them (or Range ignored), ETag and Last-Modified, and faults queued per request — a connection
 * dropped mid-file, a pause until the test releases it, a stall, no answer at all, a status.
 * Bodies go out in 64 KiB chunks with backpressure, so where a fault lands is exact.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ServedFile {
  readonly bytes: Buffer;
  readonly etag?: string;
  readonly lastModified?: string;
}

export type Fault =
  /** Send this many bytes of the body, then close the connection. */
  | { readonly kind: 'drop'; readonly after: number; readonly then?: () => void }
  /** Send this many bytes, then wait for {@link RangeFileServer.release}. */
  | { readonly kind: 'pause'; readonly after: number }
  /** Send this many bytes, then nothing until the client goes away. */
  | { readonly kind: 'stall'; readonly after: number }
  /** Read the request and never answer. */
  | { readonly kind: 'silent' }
  | { readonly kind: 'status'; readonly status: number; readonly headers?: Readonly<Record<string, string>> };

export interface ServedRequest {
  readonly path: string;
  readonly range: string | undefined;
  readonly ifRange: string | undefined;
  /** The status answered (undefined for `silent`). */
  status: number | undefined;
  readonly at: number;
}

export interface RangeFileServer {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  readonly port: number;
  /** `127.0.0.1:PORT`, the form `unsafeAllowDestinations` takes. */
  readonly destination: string;
  readonly requests: readonly ServedRequest[];
  /** What the server serves from now on. */
  serve(file: ServedFile): void;
  /** Queues a fault for the next request of the file (one per request, first in first out). */
  fault(fault: Fault): void;
  /** Lets a paused response go on. */
  release(): void;
  close(): Promise<void>;
}

const CHUNK = 64 * 1024;

/**
 * Routes: `/redirect?to=URL` (302 to URL); any other path serves the file.
 * `honourRange: false` makes it a server that answers every Range request with the whole file.
 */
export async function startRangeFileServer(initial: ServedFile, options: { honourRange?: boolean } = {}): Promise<RangeFileServer> {
  const honourRange = options.honourRange ?? true;
  let file = initial;
  const faults: Fault[] = [];
  const requests: ServedRequest[] = [];
  const sockets = new Set<Socket>();
  let releasePaused: (() => void) | undefined;
  let released = false;

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://range-file-server');
    const record: ServedRequest = { path: url.pathname, range: header(req, 'range'), ifRange: header(req, 'if-range'), status: undefined, at: Date.now() };
    requests.push(record);
    if (url.pathname === '/redirect') {
      record.status = 302;
      res.writeHead(302, { location: url.searchParams.get('to') ?? '/' }).end();
      return;
    }
    const fault = faults.shift();
    if (fault?.kind === 'silent') return;
    if (fault?.kind === 'status') {
      record.status = fault.status;
      res.writeHead(fault.status, fault.headers).end();
      return;
    }
    const { bytes } = file;
    const validators = { ...(file.etag ? { etag: file.etag } : {}), ...(file.lastModified ? { 'last-modified': file.lastModified } : {}) };
    const common = { 'content-type': 'application/octet-stream', ...(honourRange ? { 'accept-ranges': 'bytes' } : {}), ...validators };
    let start = 0;
    const range = honourRange && record.range !== undefined && rangeApplies(record.ifRange, file) ? /^bytes=(\d+)-$/.exec(record.range) : null;
    if (range) {
      start = Number(range[1]);
      if (start >= bytes.length) {
        record.status = 416;
        res.writeHead(416, { ...common, 'content-range': `bytes */${bytes.length}` }).end();
        return;
      }
      record.status = 206;
      res.writeHead(206, { ...common, 'content-length': bytes.length - start, 'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` });
    } else {
      record.status = 200;
      res.writeHead(200, { ...common, 'content-length': bytes.length });
    }
    void send(res, bytes, start, fault);
  });

  /** Writes bytes[start…] chunk by chunk; a fault's `after` counts bytes of this response. */
  async function send(res: http.ServerResponse, bytes: Buffer, start: number, fault: Fault | undefined): Promise<void> {
    const stopAt = fault && 'after' in fault ? Math.min(bytes.length, start + fault.after) : bytes.length;
    let position = start;
    const closed = new Promise<void>((resolve) => res.once('close', resolve));
    while (position < stopAt && !res.destroyed) {
      const chunk = bytes.subarray(position, Math.min(stopAt, position + CHUNK));
      position += chunk.length;
      const flushed = new Promise<void>((resolve) => res.write(chunk, () => resolve()));
      await Promise.race([flushed, closed]);
    }
    if (res.destroyed) return;
    if (fault?.kind === 'drop') {
      res.socket?.destroy();
      fault.then?.();
      return;
    }
    if (fault?.kind === 'stall') return;
    if (fault?.kind === 'pause') {
      if (!released) await Promise.race([new Promise<void>((resolve) => (releasePaused = resolve)), closed]);
      if (res.destroyed) return;
      res.end(bytes.subarray(position));
      return;
    }
    res.end();
  }

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    destination: `127.0.0.1:${port}`,
    requests,
    serve: (next) => (file = next),
    fault: (next) => faults.push(next),
    release() {
      released = true;
      releasePaused?.();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** If-Range: the range applies only while the validator still matches (strong comparison). */
function rangeApplies(ifRange: string | undefined, file: ServedFile): boolean {
  if (ifRange === undefined) return true;
  if (ifRange.startsWith('"') || ifRange.startsWith('W/')) return file.etag !== undefined && !ifRange.startsWith('W/') && ifRange === file.etag;
  return file.lastModified !== undefined && ifRange === file.lastModified;
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
