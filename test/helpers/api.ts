import { readServerSentEvents, type ServerSentEvent } from '../../src/cli/sse-client.js';
import type { ServerUnderTest } from './test-server.js';
import { INJECT_ORIGIN, type ApiResponse } from './transport.js';

export { readResponse, type ApiResponse } from './transport.js';

export const TERMINAL_STATUSES = ['succeeded', 'failed', 'canceled'] as const;

/**
 * A tiny JSON client for one server and one token, over the server's transport (its socket,
 * or `app.inject()` for a server that does not listen). `token: null` sends no Authorization
 * header at all.
 */
export function apiClient(t: ServerUnderTest, token: string | null) {
  const auth = (): Record<string, string> => (token === null ? {} : { authorization: `Bearer ${token}` });

  /**
   * Sends `body` as JSON (content-type application/json unless given), a string as is (also
   * labelled JSON unless given), bytes or FormData (multipart) untouched.
   */
  async function request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
    const all: Record<string, string> = { ...auth(), ...headers };
    if (body === undefined) return t.transport.send({ method, url: path, headers: all });
    if (body instanceof Uint8Array || body instanceof FormData) return t.transport.send({ method, url: path, headers: all, body });
    all['content-type'] ??= 'application/json';
    return t.transport.send({ method, url: path, headers: all, body: typeof body === 'string' ? body : JSON.stringify(body) });
  }

  async function status(runId: string): Promise<ApiResponse> {
    return request('GET', `/api/status/${runId}`);
  }

  /** Polls the status until `predicate` holds (default: terminal) and returns the JobView. */
  async function waitFor(runId: string, predicate: (run: any) => boolean = (run) => TERMINAL_STATUSES.includes(run.status), timeoutMs = 20_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await status(runId);
      if (res.status !== 200) throw new Error(`GET /api/status/${runId} → ${res.status} ${res.text}`);
      if (predicate(res.body)) return res.body;
      if (Date.now() > deadline) throw new Error(`run ${runId} did not reach the expected state; last: ${res.text}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Submits a text-to-image job and expects 202. */
  async function submit(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<any> {
    const res = await request('POST', '/api/generate/text-to-image', body, headers);
    if (res.status !== 202) throw new Error(`submit → ${res.status} ${res.text}`);
    return res.body;
  }

  /** Submits a job and waits for it to succeed; returns the final JobView. */
  async function generate(body: Record<string, unknown>): Promise<any> {
    const run = await submit(body);
    const done = await waitFor(run.runId);
    if (done.status !== 'succeeded') throw new Error(`run ${run.runId} ended ${done.status}: ${JSON.stringify(done.error)}`);
    return done;
  }

  return {
    token,
    request,
    get: (path: string, headers?: Record<string, string>) => request('GET', path, undefined, headers),
    post: (path: string, body?: unknown, headers?: Record<string, string>) => request('POST', path, body, headers),
    delete: (path: string) => request('DELETE', path),
    status,
    waitFor,
    submit,
    generate,
    /** Opens the SSE stream of a run (optionally resuming) and returns the raw response. */
    openStream: (runId: string, lastEventId?: number) =>
      t.transport.open({
        method: 'GET',
        url: `/api/status/stream/${runId}`,
        headers: { ...auth(), accept: 'text/event-stream', ...(lastEventId === undefined ? {} : { 'last-event-id': String(lastEventId) }) },
      }),
    /** Uploads bytes over `POST /api/uploads` (multipart) and returns the response. */
    upload: (bytes: Uint8Array, filename = 'ref.png') => {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(bytes)]), filename);
      return request('POST', '/api/uploads', form);
    },
    /**
     * Downloads a URL the server handed out (no auth): through the server's transport when
     * it points at the server, over the network otherwise (S3).
     */
    download: async (url: string, headers: Record<string, string> = {}) => asDownload(await t.transport.send({ method: 'GET', url, headers })),
  };
}

export type ApiClient = ReturnType<typeof apiClient>;

/** Reads every event of an SSE response until the server closes the stream (or the timeout). */
export async function collectEvents(response: Response, timeoutMs = 20_000): Promise<ServerSentEvent[]> {
  if (!response.body) throw new Error('SSE response has no body');
  const events: ServerSentEvent[] = [];
  const reader = (async () => {
    for await (const event of readServerSentEvents(response.body!)) events.push(event);
  })();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`SSE stream did not close within ${timeoutMs} ms; got ${events.map((e) => e.event).join(',')}`)), timeoutMs);
  });
  try {
    await Promise.race([reader, timeout]);
  } finally {
    clearTimeout(timer);
  }
  return events;
}

/** A downloaded file: status, content type and bytes. */
export interface Download {
  readonly status: number;
  readonly contentType: string | null;
  readonly bytes: Buffer;
}

function asDownload(res: ApiResponse): Download {
  return { status: res.status, contentType: res.headers.get('content-type'), bytes: res.bytes };
}

/** Downloads a URL over the network (no auth); for a server that listens, or S3. See also `apiClient(...).download`. */
export async function download(url: string, headers: Record<string, string> = {}): Promise<Download> {
  if (url.startsWith(`${INJECT_ORIGIN}/`)) throw new Error(`${url} belongs to a server that does not listen: download it with apiClient(t, …).download`);
  const response = await fetch(url, { headers });
  return { status: response.status, contentType: response.headers.get('content-type'), bytes: Buffer.from(await response.arrayBuffer()) };
}
