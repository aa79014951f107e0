import { afterEach, describe, expect, it } from 'vitest';
import { createA1111Backend } from '../../../src/backends/a1111/a1111-backend.js';
import { CanceledError } from '../../../src/errors/signals.js';
import { startFakeA1111, type FakeA1111, type FakeA1111Options } from '../../helpers/fake-a1111.js';
import { makeSpec, runBackend, waitFor } from '../../helpers/backend-spec.js';

/**
 * A1111 runs one task at a time; /interrupt flags whichever runs, and the next task's begin()
 * clears the flag. A cancel while our request waits behind another client's task must neither
 * stop that task nor be lost: our task is stopped when it starts.
 */
let fake: FakeA1111;
afterEach(async () => fake?.close());

const start = async (options: FakeA1111Options = {}) => {
  fake = await startFakeA1111({ stepDelayMs: 10, ...options });
};
const backend = () => createA1111Backend({ url: fake.url, timeouts: { connectMs: 1000, generationMs: 20_000 }, progressPollMs: 5 });

/** Another client's job, straight to the server; resolves when it answers. */
const otherClient = (steps: number) =>
  fetch(`${fake.url}/sdapi/v1/txt2img`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'theirs', steps, width: 64, height: 64, sampler_name: 'Euler' }) }).then((res) => res.status);

/** Starts our job behind the other client's and cancels it while it is still queued. */
async function cancelWhileQueued(): Promise<{ error: unknown; ms: number; b: ReturnType<typeof backend> }> {
  await waitFor(() => fake.tasks()[0]?.status === 'running');
  const b = backend();
  const abort = new AbortController();
  const ours = runBackend(b, makeSpec({ steps: 100, width: 64, height: 64 }), { signal: abort.signal }).catch((e: unknown) => e);
  await waitFor(() => fake.tasks()[1]?.status === 'queued');
  const canceledAt = Date.now();
  abort.abort();
  const error = await ours;
  return { error, ms: Date.now() - canceledAt, b };
}

describe('a1111 backend: cancel while our request is queued behind another client', () => {
  it('the server loses an interrupt sent while a task waits: begin() clears it (why a cancel must wait for our task)', async () => {
    await start();
    const theirs = otherClient(20);
    await waitFor(() => fake.tasks()[0]?.status === 'running');
    const queued = otherClient(20);
    await waitFor(() => fake.tasks()[1]?.status === 'queued');
    await fetch(`${fake.url}/sdapi/v1/interrupt`, { method: 'POST' });
    expect(await Promise.all([theirs, queued])).toEqual([200, 200]);
    expect(fake.tasks().map((t) => [t.interrupted, t.stepsDone])).toEqual([
      [true, expect.any(Number)],
      [false, 20],
    ]);
  });

  it('leaves the other task alone and stops ours as soon as it starts (web UI: /internal/progress knows our task id)', async () => {
    await start();
    const theirs = otherClient(40);
    const { error, ms } = await cancelWhileQueued();
    expect(error).toBeInstanceOf(CanceledError);
    expect(ms).toBeLessThan(1000);
    expect(fake.count('/sdapi/v1/interrupt')).toBe(0);
    expect(await theirs).toBe(200);
    await waitFor(() => fake.tasks()[1]?.status === 'done');
    const [other, ours] = fake.tasks();
    expect(other).toMatchObject({ interrupted: false, stepsDone: 40 });
    expect(ours).toMatchObject({ interrupted: true });
    expect(ours!.stepsDone).toBeLessThan(10);
    expect(fake.count('/sdapi/v1/interrupt')).toBe(1);
  });

  it('still stops ours when it starts on a server without the web UI (--nowebui), by re-sending until our request ends', async () => {
    await start({ webui: false });
    const theirs = otherClient(40);
    const { error } = await cancelWhileQueued();
    expect(error).toBeInstanceOf(CanceledError);
    // Nothing tells tasks apart here, so the other client's task is interrupted too (documented).
    await theirs;
    await waitFor(() => fake.tasks()[1]?.status === 'done');
    expect(fake.tasks()[1]).toMatchObject({ interrupted: true });
    expect(fake.tasks()[1]!.stepsDone).toBeLessThan(10);
    // That it stops re-sending once our request settles is a1111-task-stop.test.ts's to show:
    // A1111 encodes the answer after releasing the queue, so the moment is not observable here.
  });

  it('close() ends the watch on a canceled request at once', async () => {
    await start();
    const theirs = otherClient(60);
    const { b } = await cancelWhileQueued();
    await waitFor(() => fake.count('/internal/progress') > 1);
    await b.close!();
    const asked = fake.count('/internal/progress');
    expect(await theirs).toBe(200);
    await waitFor(() => fake.tasks()[1]?.status === 'done');
    expect(fake.count('/internal/progress')).toBe(asked);
  });
});
