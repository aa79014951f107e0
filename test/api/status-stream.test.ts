import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerSentEvent } from '../../src/cli/sse-client.js';
import { apiClient, collectEvents, type ApiClient } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const STEPS = 8;
const EXPECTED_TYPES = ['queued', 'running', ...Array<string>(STEPS).fill('progress'), 'succeeded'];

function ids(events: readonly ServerSentEvent[]): number[] {
  return events.map((e) => Number(e.id));
}

describe('GET /api/status/stream/:runId (Server-Sent Events)', () => {
  let t: TestServer;
  let api: ApiClient;
  let runId: string;
  let live: ServerSentEvent[];
  let streamResponse: Response;

  beforeAll(async () => {
    // A socket: this file tests SSE as clients get it, a live stream read as events arrive, then reconnects.
    t = await startTestServer();
    api = apiClient(t, t.adminToken);
    // Large enough that the stream is open while the run is still going.
    const run = await api.submit({ prompt: 'a river delta from above', width: 1024, height: 1024, steps: STEPS, seed: 5 });
    runId = run.runId;
    streamResponse = await api.openStream(runId);
    // Live previews (ephemeral, no id; see builtin-previews.test.ts) may interleave: this file checks the durable log.
    live = (await collectEvents(streamResponse)).filter((e) => e.event !== 'preview');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers with an event stream', () => {
    expect(streamResponse.status).toBe(200);
    expect(streamResponse.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(streamResponse.headers.get('cache-control')).toContain('no-cache');
  });

  it('delivers queued, running, one progress event per step and succeeded, in order, then closes', () => {
    expect(live.map((e) => e.event)).toEqual(EXPECTED_TYPES);
  });

  it('numbers events with strictly increasing ids starting at 1', () => {
    expect(ids(live)).toEqual(EXPECTED_TYPES.map((_, i) => i + 1));
  });

  it('sends JSON data naming the run and its type on every event', () => {
    for (const event of live) {
      const data = JSON.parse(event.data);
      expect(data).toMatchObject({ runId, type: event.event });
      expect(new Date(data.at).toString()).not.toBe('Invalid Date');
    }
  });

  it('reports increasing steps out of the total on progress events', () => {
    const progress = live.filter((e) => e.event === 'progress').map((e) => JSON.parse(e.data));
    expect(progress.map((p) => p.step)).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
    for (const p of progress) {
      expect(p.totalSteps).toBe(STEPS);
      expect(p.progress).toBeCloseTo(p.step / STEPS, 10);
    }
    expect(progress.at(-1)!.progress).toBe(1);
  });

  it('reports the attempt on the running event', () => {
    const running = JSON.parse(live[1]!.data);
    expect(running).toMatchObject({ attempt: 1, maxAttempts: expect.any(Number) });
  });

  it('names the created assets on the succeeded event', async () => {
    const data = JSON.parse(live.at(-1)!.data);
    const status = await api.status(runId);
    expect(status.body.status).toBe('succeeded');
    expect(data.assets).toEqual(status.body.assets.map((a: any) => ({ id: a.id, index: a.index })));
    expect(data.assets).toHaveLength(1);
  });

  it('replays only the events after Last-Event-ID on reconnect', async () => {
    const resumed = await collectEvents(await api.openStream(runId, 3));
    expect(ids(resumed)).toEqual(ids(live).filter((id) => id > 3));
    expect(resumed.map((e) => e.event)).toEqual(EXPECTED_TYPES.slice(3));
    expect(resumed.map((e) => e.data)).toEqual(live.slice(3).map((e) => e.data));
  });

  it('replays everything to a stream opened after the run finished, then closes', async () => {
    const late = await collectEvents(await api.openStream(runId));
    expect(late.map((e) => e.event)).toEqual(EXPECTED_TYPES);
    expect(ids(late)).toEqual(ids(live));
    expect(late.map((e) => e.data)).toEqual(live.map((e) => e.data));
  });

  it('closes at once when Last-Event-ID is already the terminal event', async () => {
    const nothing = await collectEvents(await api.openStream(runId, live.length), 5_000);
    expect(nothing).toEqual([]);
  });

  it('streams a second, small run the same way even when it finishes before the stream opens', async () => {
    const run = await api.submit({ prompt: 'a pebble', width: 256, height: 256, steps: 3, seed: 9 });
    await api.waitFor(run.runId);
    const events = await collectEvents(await api.openStream(run.runId));
    expect(events.map((e) => e.event)).toEqual(['queued', 'running', 'progress', 'progress', 'progress', 'succeeded']);
    expect(ids(events)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('rejects a non-numeric Last-Event-ID', async () => {
    const res = await fetch(`${t.url}/api/status/stream/${runId}`, { headers: { authorization: `Bearer ${t.adminToken}`, 'last-event-id': 'abc' } });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ code: 'invalid_parameter' });
  });

  it('rejects a Last-Event-ID beyond any event number (job_events.seq is a 32-bit integer) with 422', async () => {
    // On PostgreSQL 99999999999999999999 reached the query: 'out of range for type integer',
    // logged as a failure, and the stream ended at once with nothing — for EventSource to reconnect.
    for (const id of ['99999999999999999999', '2147483648']) {
      const res = await fetch(`${t.url}/api/status/stream/${runId}`, { headers: { authorization: `Bearer ${t.adminToken}`, 'last-event-id': id } });
      expect(res.status).toBe(422);
      expect(await res.json()).toMatchObject({ code: 'invalid_parameter', field: 'last-event-id' });
    }
    const last = await fetch(`${t.url}/api/status/stream/${runId}`, { headers: { authorization: `Bearer ${t.adminToken}`, 'last-event-id': '2147483647' } });
    expect(last.status).toBe(200);
    await last.text();
  });

  it('answers an unknown run with 404 JSON', async () => {
    const res = await api.openStream('no-such-run');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'not_found' });
  });
});
