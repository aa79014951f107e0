import { readServerSentEvents, type ServerSentEvent } from '../../src/cli/sse-client.js';
import type { TestServer } from './test-server.js';

/** A parsed HTTP response: status, headers, the raw text and the JSON body (undefined when not JSON). */
export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: any;
}

export const TERMINAL_STATUSES = ['succeeded', 'failed', 'canceled'] as const;

/** Reads a fetch response fully into an {@link ApiResponse}. */
export async function readResponse(response: Response): Promise<ApiResponse> {
  const text = await response.text();
  let body: any;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, text, body };
}

/**
 * A tiny JSON client for one server and one token. `token: null` sends no Authorization
 * header at all.
 */
export function apiClient(t: TestServer, token: string | null) {
  const auth = (): Record<string, string> => (token === null ? {} : { authorization: `Bearer ${token}` });

  async function request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
    const init: RequestInit = { method, headers: { ...auth(), ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    return readResponse(await fetch(`${t.url}${path}`, init));
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
      fetch(`${t.url}/api/status/stream/${runId}`, {
        headers: { ...auth(), accept: 'text/event-stream', ...(lastEventId === undefined ? {} : { 'last-event-id': String(lastEventId) }) },
      }),
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

/** Downloads a URL (no auth) and returns status, content type and bytes. */
export async function download(url: string, headers: Record<string, string> = {}): Promise<{ status: number; contentType: string | null; bytes: Buffer }> {
  const response = await fetch(url, { headers });
  return { status: response.status, contentType: response.headers.get('content-type'), bytes: Buffer.from(await response.arrayBuffer()) };
}
