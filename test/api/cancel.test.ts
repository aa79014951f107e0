import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readServerSentEvents, type ServerSentEvent } from '../../src/cli/sse-client.js';
import { apiClient, collectEvents, type ApiClient } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** A run long enough (seconds) to be caught while running. */
const LONG = { prompt: 'an endless mountain range', width: 2048, height: 2048, steps: 150, seed: 3 };
const SMALL = { prompt: 'a small stone', width: 256, height: 256, steps: 3, seed: 4 };

async function canceledCount(t: TestServer): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${t.adminToken}` } })).text();
  const line = text.split('\n').find((l) => l.startsWith('atelier_jobs_finished_total{') && l.includes('status="canceled"'));
  return line ? Number(line.trim().split(/\s+/).at(-1)) : 0;
}

/** The queue's entries by state (waiting, active, delayed…), as /metrics reports them. */
async function queueCounts(t: TestServer): Promise<Record<string, number>> {
  const text = await (await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${t.adminToken}` } })).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^atelier_queue_jobs\{state="([a-z]+)"\} (\d+)$/gm)) counts[match[1]!] = Number(match[2]);
  return counts;
}

/**
 * Waits until nothing more can happen: the queue holds no entry in any state (a retry or a
 * re-enqueue that should not exist keeps an entry there, or runs and changes the status).
 */
async function drained(t: TestServer): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const counts = await queueCounts(t);
    if (Object.keys(counts).length === 0) throw new Error('/metrics reports no queue states');
    if (Object.values(counts).every((n) => n === 0)) return;
    if (Date.now() > deadline) throw new Error(`the queue never drained: ${JSON.stringify(counts)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until the runner has recorded `n` canceled attempts as finished (it cleans up first). */
async function waitForRunnerToLetGo(t: TestServer, n: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await canceledCount(t)) < n) {
    if (Date.now() > deadline) throw new Error('the runner never finished the canceled attempt');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('POST /api/runs/:runId/cancel', () => {
  let t: TestServer;
  let api: ApiClient;
  let userId: string;

  beforeAll(async () => {
    t = await startTestServer();
    const user = await t.addUser('canceler');
    userId = user.id;
    api = apiClient(t, user.token);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('interrupts a running job: it stays canceled, has no assets and leaves no files', async () => {
    const run = await api.submit(LONG);
    const running = await api.waitFor(run.runId, (r) => r.status === 'running' && r.progress.step >= 1);
    expect(running.progress.totalSteps).toBe(150);

    const canceled = await api.post(`/api/runs/${run.runId}/cancel`);
    expect(canceled.status).toBe(200);
    expect(canceled.body).toMatchObject({ runId: run.runId, status: 'canceled', assets: [], error: { code: 'job_canceled' } });
    expect(canceled.body.finishedAt).not.toBeNull();

    await waitForRunnerToLetGo(t, 1);
    const after = await api.status(run.runId);
    expect(after.body.status).toBe('canceled');
    expect(after.body.assets).toEqual([]);
    // It stopped early: nowhere near all the steps ran.
    expect(after.body.progress.step).toBeLessThan(150);

    const runDir = join(t.dataDir, 'media', 'workspace-temp', userId, run.runId);
    expect(existsSync(runDir) ? await readdir(runDir) : []).toEqual([]);
    expect((await api.get('/api/images/history')).body.total).toBe(0);

    // The stream of a canceled run ends with the canceled event, never succeeded.
    const events = await collectEvents(await api.openStream(run.runId));
    expect(events.at(-1)!.event).toBe('canceled');
    expect(events.map((e) => e.event)).not.toContain('succeeded');

    // Still canceled once nothing is left to run: nothing resurrects it.
    await drained(t);
    expect((await api.status(run.runId)).body).toMatchObject({ status: 'canceled', assets: [] });
  });

  it('frees the runner for the next job after a cancel', async () => {
    const done = await api.generate(SMALL);
    expect(done.status).toBe('succeeded');
    expect(done.assets).toHaveLength(1);
  });

  it('cancels a job queued behind a running one so that it never starts', async () => {
    const blocker = await api.submit(LONG);
    await api.waitFor(blocker.runId, (r) => r.status === 'running');
    const queued = await api.submit(SMALL);
    expect((await api.status(queued.runId)).body.status).toBe('queued');

    const res = await api.post(`/api/runs/${queued.runId}/cancel`);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('canceled');

    expect((await api.post(`/api/runs/${blocker.runId}/cancel`)).body.status).toBe('canceled');
    // Give the runner the chance to (wrongly) pick the queued job up.
    await waitForRunnerToLetGo(t, 2);
    const probe = await api.generate(SMALL);
    expect(probe.status).toBe('succeeded');

    const after = await api.status(queued.runId);
    expect(after.body).toMatchObject({ status: 'canceled', assets: [], startedAt: null });
    const events = await collectEvents(await api.openStream(queued.runId));
    expect(events.map((e) => e.event)).toEqual(['queued', 'canceled']);
  });

  it('refuses to cancel a succeeded run with 409 job_not_cancelable', async () => {
    const done = await api.generate(SMALL);
    const res = await api.post(`/api/runs/${done.runId}/cancel`);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'job_not_cancelable' });
    const after = await api.status(done.runId);
    expect(after.body.status).toBe('succeeded');
    expect(after.body.assets).toHaveLength(1);
  });

  it('answers 404 for an unknown run', async () => {
    const res = await api.post('/api/runs/not-a-run/cancel');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'not_found' });
  });
});

describe('canceling queued runs (no runner)', () => {
  let t: TestServer;
  let api: ApiClient;

  beforeAll(async () => {
    t = await startTestServer({ RUNNER_CONCURRENCY: '0' });
    api = apiClient(t, t.adminToken);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('cancels a queued job', async () => {
    const run = await api.submit(SMALL);
    expect(run.status).toBe('queued');
    const res = await api.post(`/api/runs/${run.runId}/cancel`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ runId: run.runId, status: 'canceled', assets: [] });
    expect((await api.status(run.runId)).body.status).toBe('canceled');
  });

  it('answers 200 to a second cancel without changing anything', async () => {
    const run = await api.submit(SMALL);
    const first = await api.post(`/api/runs/${run.runId}/cancel`);
    const second = await api.post(`/api/runs/${run.runId}/cancel`);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body.status).toBe('canceled');
    expect(second.body.finishedAt).toBe(first.body.finishedAt);
    // Only one canceled event was recorded.
    const events = await collectEvents(await api.openStream(run.runId));
    expect(events.map((e) => e.event)).toEqual(['queued', 'canceled']);
  });

  it('ends the live stream of a queued run when it is canceled', async () => {
    const run = await api.submit(SMALL);
    const stream = await api.openStream(run.runId);
    // Read the replayed 'queued' event first: the stream is live when the cancel lands.
    const events = readServerSentEvents(stream.body!)[Symbol.asyncIterator]();
    const first = await events.next();
    expect(first.done ? undefined : first.value.event).toBe('queued');
    await api.post(`/api/runs/${run.runId}/cancel`);
    const rest: ServerSentEvent[] = [];
    for (let next = await events.next(); !next.done; next = await events.next()) rest.push(next.value);
    expect([first.value, ...rest].map((e) => [e.event, Number(e.id)])).toEqual([
      ['queued', 1],
      ['canceled', 2],
    ]);
  });
});
