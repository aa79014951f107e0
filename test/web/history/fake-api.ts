import { vi } from 'vitest';

/** One recorded request the page made. */
export interface Call {
  readonly method: string;
  readonly url: URL;
  readonly auth: string | null;
}

type Handler = (call: Call) => { status?: number; body?: unknown } | undefined;

/**
 * Stands in for the Atelier server at the fetch boundary of a jsdom render test: routes by
 * method and path to canned JSON, records every call, and answers 404 for anything unknown.
 */
export function fakeApi(handler: Handler) {
  const calls: Call[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), 'http://app.test');
    const headers = new Headers(init.headers);
    const call = { method: init.method ?? 'GET', url, auth: headers.get('authorization') };
    calls.push(call);
    if (init.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    const answer = handler(call) ?? { status: 404, body: { code: 'not_found', message: `No route ${call.method} ${url.pathname}` } };
    const status = answer.status ?? 200;
    return new Response(status === 204 || answer.body === undefined ? null : JSON.stringify(answer.body), { status, headers: { 'content-type': 'application/json' } });
  });
  vi.stubGlobal('fetch', fetch);
  return { calls, fetch };
}

/** Signs the test browser in: a stored token and `GET /api/me` answered by the caller's handler. */
export function signIn(): void {
  localStorage.setItem('atelier.token', 'test-token');
}
