import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, collectEvents, type ApiClient } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** Keeps the single runner busy until canceled, so the job under test waits in the queue. */
const BLOCKER = { prompt: 'a slow blocker', width: 2048, height: 2048, steps: 150, seed: 1 };
const STEPS = 40;

describe('live previews of the built-in renderer over SSE', () => {
  let t: TestServer;
  let api: ApiClient;

  beforeAll(async () => {
    // A socket: previews are live SSE events, read as they arrive while the job runs.
    t = await startTestServer();
    api = apiClient(t, t.adminToken);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('streams JPEG preview events while a text-to-image job runs', async () => {
    const blocker = await api.submit(BLOCKER);
    await api.waitFor(blocker.runId, (r) => r.status === 'running' && r.progress.step >= 1);
    const run = await api.submit({ prompt: 'a river delta from above', width: 512, height: 512, steps: STEPS, seed: 5 });
    // Previews are live only: the stream must be open before the job runs, so it is opened
    // while the job still waits behind the blocker, which is canceled only then.
    const stream = await api.openStream(run.runId);
    expect(stream.status).toBe(200);
    const collecting = collectEvents(stream, 30_000);
    expect((await api.post(`/api/runs/${blocker.runId}/cancel`)).status).toBe(200);
    const events = await collecting;

    const durable = events.filter((e) => e.event !== 'preview');
    expect(durable.map((e) => e.event)).toEqual(['queued', 'running', ...Array<string>(STEPS).fill('progress'), 'succeeded']);
    const previews = events.filter((e) => e.event === 'preview');
    expect(previews.length, events.map((e) => e.event).join(',')).toBeGreaterThanOrEqual(1);
    expect(previews.length).toBeLessThanOrEqual(8);
    // Previews come while the job runs, never after it succeeded.
    expect(events.findIndex((e) => e.event === 'preview')).toBeGreaterThan(events.findIndex((e) => e.event === 'running'));
    expect(events.at(-1)!.event).toBe('succeeded');

    for (const preview of previews) {
      expect(preview.id).toBeUndefined(); // live only, not part of the resumable log
      const data = JSON.parse(preview.data);
      expect(data).toMatchObject({ runId: run.runId, type: 'preview', mime: 'image/jpeg' });
      expect(data.image).toMatch(/^data:image\/jpeg;base64,/);
      const bytes = Buffer.from(data.image.slice('data:image/jpeg;base64,'.length), 'base64');
      const meta = await sharp(bytes).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 256, 256]);
    }
  });
});
