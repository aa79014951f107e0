/**
 * CORS as a browser enforces it: a page served from another origin than the API calls it with
 * a bearer token (so every call is preflighted) and reads an event stream. Node's fetch does
 * not enforce CORS; Chromium does, so a missing or wrong header fails these calls.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBrowser } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const b = useBrowser();
let pages: http.Server;
let pagePort: number;
let api: TestServer;
let token: string;

beforeAll(async () => {
  // The page's origin: another port than the API's, so another origin.
  pages = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>third-party app</title>'));
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  pagePort = (pages.address() as AddressInfo).port;
  api = await startTestServer({ CORS_ORIGINS: `http://127.0.0.1:${pagePort}` });
  token = (await api.addUser('page-user')).token;
});
afterAll(async () => {
  await api?.close();
  await new Promise((resolve) => pages?.close(resolve));
});

/** Runs in the page: submits a run, then reads its event stream to the end, resuming with Last-Event-ID. */
async function submitAndStream(args: { api: string; token: string }) {
  const auth = { authorization: `Bearer ${args.token}` };
  const submitted = await fetch(`${args.api}/api/generate/text-to-image`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': `k-${Math.random()}` },
    body: JSON.stringify({ prompt: 'a paper boat', width: 64, height: 64, steps: 3 }),
  });
  const run = (await submitted.json()) as { runId: string };
  const stream = await fetch(`${args.api}/api/status/stream/${run.runId}`, { headers: { ...auth, accept: 'text/event-stream', 'last-event-id': '0' } });
  const reader = stream.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return { status: submitted.status, location: submitted.headers.get('location'), streamStatus: stream.status, events: [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]) };
}

describe('CORS in a browser', () => {
  it('a page of a listed origin submits a run, reads Location and follows its event stream', async () => {
    const { page, unexpectedProblems } = await b.newPage();
    await page.goto(`http://127.0.0.1:${pagePort}/`);
    const result = await page.evaluate(submitAndStream, { api: api.url, token });
    expect(result.status).toBe(202);
    expect(result.location).toMatch(/^\/api\/status\//);
    expect(result.streamStatus).toBe(200);
    expect(result.events[0]).toBe('queued');
    expect(result.events.at(-1)).toBe('succeeded');
    expect(unexpectedProblems()).toEqual([]);
  });

  it('a page of another origin is blocked by the browser', async () => {
    const { page } = await b.newPage();
    // localhost and 127.0.0.1 are different origins; only the latter is listed.
    await page.goto(`http://localhost:${pagePort}/`);
    const outcome = await page.evaluate(async (args: { api: string; token: string }) => {
      try {
        await fetch(`${args.api}/api/models`, { headers: { authorization: `Bearer ${args.token}` } });
        return 'read';
      } catch (error) {
        return String(error);
      }
    }, { api: api.url, token });
    expect(outcome).toMatch(/TypeError: Failed to fetch/);
  });
});
