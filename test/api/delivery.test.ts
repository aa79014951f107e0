import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { S3RVER_CREDENTIALS, startS3TestServer, type S3TestServer } from '../helpers/s3-test-server.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

async function checkVariants(client: ApiClient, body: Record<string, unknown>, expected: [string, string, number, number][]) {
  const run = await client.generate(body);
  const asset = run.assets[0];
  expect(asset.variants.map((v: any) => [v.name, v.format, v.width, v.height])).toEqual(expected);
  for (const variant of asset.variants) {
    const file = await client.download(variant.url);
    expect(file.status).toBe(200);
    const meta = await sharp(file.bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual([variant.format, variant.width, variant.height]);
    expect(file.bytes.length).toBe(variant.bytes);
  }
  expect(asset.metadata.processing).toMatchObject({ original_bytes: asset.metadata.file_size_bytes, variant_bytes: { normal: asset.variants[0].bytes, high: asset.variants[1].bytes } });
  return run;
}

describe('delivery variants (SPEC §4)', () => {
  let t: InjectServer;
  let client: ApiClient;
  beforeAll(async () => {
    t = await startInjectServer();
    client = apiClient(t, t.adminToken);
  });
  afterAll(async () => {
    await t.close();
  });

  it("gives every image its preset's normal JPEG and high WebP, fit inside the box, never enlarged", async () => {
    // stable-diffusion preset: normal 768² JPEG 80, high 1536² WebP 95.
    await checkVariants(client, { prompt: 'a tall tower', width: 1024, height: 2048, steps: 2 }, [
      ['normal', 'jpeg', 384, 768],
      ['high', 'webp', 768, 1536],
    ]);
    await checkVariants(client, { prompt: 'a small stamp', width: 320, height: 256, steps: 2 }, [
      ['normal', 'jpeg', 320, 256],
      ['high', 'webp', 320, 256],
    ]);
  });

  it('exports media processing metrics', async () => {
    const metrics = (await client.get('/metrics')).text;
    expect(metrics).toMatch(/atelier_media_results_total\{result="success",error_class="none"\} [1-9]/);
    expect(metrics).toMatch(/atelier_media_processing_seconds_count\{result="success"\} [1-9]/);
  });
});

describe('a server on S3 storage (STORAGE_URL=s3://…)', () => {
  let s3: S3TestServer;
  let t: InjectServer;
  beforeAll(async () => {
    s3 = await startS3TestServer(['atelier-media']);
    t = await startInjectServer({
      STORAGE_URL: 's3://atelier-media/test',
      S3_ENDPOINT: s3.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      S3_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      S3_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    });
  });
  afterAll(async () => {
    await t?.close();
    await s3?.close();
  });

  it('stores originals, thumbnails and variants in the bucket and serves presigned S3 URLs', async () => {
    const client = apiClient(t, t.adminToken);
    const run = await checkVariants(client, { prompt: 'harbour lights', width: 512, height: 512, steps: 2 }, [
      ['normal', 'jpeg', 512, 512],
      ['high', 'webp', 512, 512],
    ]);
    const url = new URL(run.assets[0].url);
    expect(url.origin).toBe(s3.endpoint);
    expect(url.pathname).toBe(`/atelier-media/test/workspace-temp/${run.assets[0].url.split('/workspace-temp/')[1].split('?')[0]}`);
    expect(url.searchParams.get('X-Amz-Signature')).toBeTruthy();
    const png = await client.download(run.assets[0].url);
    expect((await sharp(png.bytes).metadata()).format).toBe('png');
    expect(s3.requests.some((r) => r.startsWith('PUT /atelier-media/test/workspace-temp/'))).toBe(true);
    // No local media route on S3: the server does not serve /media at all.
    expect((await apiClient(t, null).get('/media/x.png?expires=1&signature=x')).status).toBe(404);
  });
});
