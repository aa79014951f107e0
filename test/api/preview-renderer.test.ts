import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { previewMarkBox } from '../../src/backends/builtin/preview-mark.js';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

describe('the preview renderer says what it is', () => {
  let t: InjectServer;
  let api: ApiClient;
  beforeAll(async () => {
    t = await startInjectServer();
    api = apiClient(t, (await t.addUser('viewer')).token);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('GET /api/models marks its models preview, and their labels say PREVIEW', async () => {
    const { models } = (await api.get('/api/models')).body as { models: { name: string; label: string; preview: boolean; backend: { kind: string; label: string } }[] };
    expect(models.map((m) => m.name)).toEqual(['preview', 'preview-t2v', 'preview-i2v', 'preview-ti2v']);
    for (const model of models) {
      expect(model.preview).toBe(true);
      expect(model.label).toContain('PREVIEW');
      expect(model.backend).toEqual({ kind: 'builtin', label: 'Atelier preview renderer (built-in, no model weights; outputs are marked PREVIEW)' });
    }
  });

  it('a run names it, and its image carries the mark', async () => {
    const submitted = await api.submit({ prompt: 'a quiet lake', width: 320, height: 256, steps: 2, seed: 3 });
    expect(submitted.backend.label).toContain('outputs are marked PREVIEW');
    const done = await api.waitFor(submitted.runId);
    expect(done.backend.label).toContain('outputs are marked PREVIEW');
    const png = (await api.download(done.assets[0].url)).bytes;
    const rgb = await sharp(png).raw().toBuffer();
    const box = previewMarkBox(320, 256);
    let ink = 0;
    for (let y = box.top; y < box.top + box.height; y += 1) for (let x = box.left; x < box.left + box.width; x += 1) if (rgb[(y * 320 + x) * 3]! >= 230) ink += 1;
    expect(ink).toBe(111);
  });
});
