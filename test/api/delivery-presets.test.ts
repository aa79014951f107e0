import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';
import { STUDIO } from '../media/image/studio-preset.js';

describe("a server whose default preset is issue #17's studio preset", () => {
  let t: InjectServer;
  let client: ApiClient;
  beforeAll(async () => {
    t = await startInjectServer(
      {},
      {
        configure: (config) => {
          config.presets = [{ ...STUDIO, watermark: { text: 'Atelier' } }] as never;
          config.media.defaultPreset = 'studio';
        },
      },
    );
    client = apiClient(t, t.adminToken);
  });
  afterAll(() => t.close());

  it('lists normal, high and the square crop with signed URLs that serve each format with its content type', async () => {
    const run = await client.generate({ prompt: 'a red kite over a field', width: 1024, height: 640, steps: 2 });
    const asset = run.assets[0];
    expect(asset.variants.map((v: any) => [v.name, v.preset, v.format, v.width, v.height])).toEqual([
      ['normal', 'studio', 'jpeg', 768, 480],
      ['high', 'studio', 'avif', 1024, 640],
      ['square', 'studio', 'webp', 256, 256],
    ]);
    const contentTypes: string[] = [];
    for (const variant of asset.variants) {
      const file = await client.download(variant.url);
      expect(file.status).toBe(200);
      contentTypes.push(file.contentType ?? '');
      const meta = await sharp(file.bytes).metadata();
      expect([meta.width, meta.height, file.bytes.length]).toEqual([variant.width, variant.height, variant.bytes]);
      expect(meta.format === 'heif' ? meta.compression : meta.format).toBe(variant.format === 'avif' ? 'av1' : variant.format);
    }
    expect(contentTypes).toEqual(['image/jpeg', 'image/avif', 'image/webp']);
    expect(asset.metadata.processing.variant_bytes).toEqual({ normal: asset.variants[0].bytes, high: asset.variants[1].bytes, square: asset.variants[2].bytes });

    // Signed like every media URL: a changed signature is refused.
    const tampered = asset.variants[2].url.replace(/signature=([^&])/, (_: string, c: string) => `signature=${c === 'A' ? 'B' : 'A'}`);
    expect(tampered).not.toBe(asset.variants[2].url);
    expect((await client.download(tampered)).status).toBe(403);

    // Deleting the image removes every variant, the extra one included.
    expect((await client.delete(`/api/images/${asset.id}`)).status).toBe(204);
    for (const variant of asset.variants) expect((await client.download(variant.url)).status).toBe(404);
  });
});
