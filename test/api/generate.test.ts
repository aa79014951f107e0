import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

describe('POST /api/generate/text-to-image', () => {
  let t: InjectServer;
  let api: ApiClient;
  beforeAll(async () => {
    t = await startInjectServer();
    api = apiClient(t, t.adminToken);
  });
  afterAll(async () => {
    await t.close();
  });

  it('accepts a job with 202 and runs it to a decodable PNG of the requested size', async () => {
    const response = await api.post('/api/generate/text-to-image', { prompt: 'a lighthouse at dusk', width: 512, height: 384, steps: 5, seed: 11 });
    expect(response.status).toBe(202);
    const run: any = response.body;
    expect(run).toMatchObject({ status: 'queued', seed: 11, parameters: { width: 512, height: 384, steps: 5 } });
    const done = await api.waitFor(run.runId);
    expect(done.status).toBe('succeeded');
    expect(done.assets).toHaveLength(1);
    const png = (await api.download(done.assets[0].url)).bytes;
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 512, 384]);
    expect(done.assets[0].metadata).toMatchObject({ width: 512, height: 384, format: 'png', steps: 5, seed: 11, asset_index: 0, negative_prompt_used: false });
  });
});
