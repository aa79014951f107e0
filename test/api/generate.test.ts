import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe('POST /api/generate/text-to-image', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${t.url}/api/generate/text-to-image`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  async function waitForStatus(runId: string): Promise<any> {
    for (let i = 0; i < 200; i++) {
      const status: any = await (await fetch(`${t.url}/api/status/${runId}`, { headers: { authorization: `Bearer ${t.adminToken}` } })).json();
      if (['succeeded', 'failed', 'canceled'].includes(status.status)) return status;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('run did not finish');
  }

  it('accepts a job with 202 and runs it to a decodable PNG of the requested size', async () => {
    const response = await post({ prompt: 'a lighthouse at dusk', width: 512, height: 384, steps: 5, seed: 11 });
    expect(response.status).toBe(202);
    const run: any = await response.json();
    expect(run).toMatchObject({ status: 'queued', seed: 11, parameters: { width: 512, height: 384, steps: 5 } });
    const done = await waitForStatus(run.runId);
    expect(done.status).toBe('succeeded');
    expect(done.assets).toHaveLength(1);
    const png = Buffer.from(await (await fetch(done.assets[0].url)).arrayBuffer());
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 512, 384]);
    expect(done.assets[0].metadata).toMatchObject({ width: 512, height: 384, format: 'png', steps: 5, seed: 11, asset_index: 0, negative_prompt_used: false });
  });
});
