import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllSpawned, spawnServer } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/**
 * Seed 001's promise: a job's input images are stored before it is queued, so a crash
 * between submission and the run loses nothing. The first server accepts jobs but runs
 * none (RUNNER_CONCURRENCY=0); it is SIGKILLed; a second server on the same data directory
 * runs them all from their held inputs.
 */
describe('crash between submission and run', () => {
  afterAll(async () => {
    await killAllSpawned();
  });

  it('runs every accepted image-to-image and image-to-video job after kill -9', async () => {
    const tmp = await makeTempDir('atelier-crash-inputs-');
    const first = await spawnServer({ env: { DATA_DIR: tmp.dir, RUNNER_CONCURRENCY: '0', LOG_LEVEL: 'warn' } });
    const auth = { authorization: `Bearer ${first.token}` };

    const uploadId = async (colour: string) => {
      const form = new FormData();
      form.append('file', new Blob([await sharp({ create: { width: 96, height: 64, channels: 3, background: colour } }).png().toBuffer()]), 'in.png');
      const res = await fetch(`${first.url}/api/uploads`, { method: 'POST', headers: auth, body: form });
      return ((await res.json()) as { uploadId: string }).uploadId;
    };
    const submit = async (path: string, body: object) => {
      const res = await fetch(`${first.url}${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).toBe(202);
      return ((await res.json()) as { runId: string }).runId;
    };
    const red = await uploadId('#ff0000');
    const blue = await uploadId('#0000ff');
    const runIds = [
      await submit('/api/generate/image-to-image', { prompt: '', exact_copy_mode: true, width: 96, height: 64, reference_image: { upload_id: red } }),
      await submit('/api/generate/image-to-image', { prompt: 'night', width: 96, height: 64, steps: 3, reference_image: { upload_id: blue } }),
      await submit('/api/generate/image-to-video', { model: 'preview-ti2v', prompt: 'fade', start_image: { upload_id: red }, end_image: { upload_id: blue }, num_frames: 6, width: 96, height: 64 }),
    ];
    await first.kill('SIGKILL');

    const second = await spawnServer({ env: { DATA_DIR: tmp.dir, RUNNER_CONCURRENCY: '1', LOG_LEVEL: 'warn' } });
    try {
      for (const runId of runIds) {
        let run: { status: string; error: unknown; assets: unknown[] } | undefined;
        for (let i = 0; i < 300; i++) {
          run = (await (await fetch(`${second.url}/api/status/${runId}`, { headers: auth })).json()) as typeof run;
          if (run && ['succeeded', 'failed', 'canceled'].includes(run.status)) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(run?.status, JSON.stringify(run?.error)).toBe('succeeded');
        expect(run?.assets).toHaveLength(1);
      }
    } finally {
      await second.stop();
      await tmp.remove();
    }
  });
});
