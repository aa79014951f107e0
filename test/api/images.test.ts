import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { createUrlSigner } from '../../src/storage/url-signer.js';
import { apiClient, download, type ApiClient } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const SIGNING_SECRET = 'images-test-signing-secret-0123456789abcdef';

async function pngParameters(png: Buffer): Promise<string> {
  const meta = await sharp(png).metadata();
  const chunk = meta.comments?.find((c) => c.keyword === 'parameters');
  if (!chunk) throw new Error(`no parameters chunk in ${JSON.stringify(meta.comments)}`);
  return chunk.text;
}

describe('image history, detail, files and delete', () => {
  let t: TestServer;
  let user: ApiClient;
  let userId: string;
  let runA: any; // 2 images, seed 100
  let runB: any; // 3 images, seed 200, newer

  beforeAll(async () => {
    t = await startTestServer({ ATELIER_SIGNING_SECRET: SIGNING_SECRET });
    const created = await t.addUser('gallery');
    userId = created.id;
    user = apiClient(t, created.token);
    runA = await user.generate({ prompt: 'a quiet harbour', negative_prompt: 'fog', width: 512, height: 384, steps: 4, seed: 100, num_images: 2 });
    runB = await user.generate({ prompt: 'a bright meadow', width: 512, height: 384, steps: 5, seed: 200, num_images: 3 });
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('GET /api/images/history', () => {
    it('lists every image newest first with the seed-003 item shape', async () => {
      const res = await user.get('/api/images/history/');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ total: 5, page: 1, perPage: 20 });
      const images: any[] = res.body.images;
      expect(images).toHaveLength(5);
      // Run B was made after run A, so all of its images come first.
      expect(images.map((i) => i.runId)).toEqual([runB.runId, runB.runId, runB.runId, runA.runId, runA.runId]);
      const times = images.map((i) => Date.parse(i.createdAt));
      expect(times).toEqual([...times].sort((a, b) => b - a));
      expect(new Set(images.map((i) => i.id))).toEqual(new Set([...runA.assets, ...runB.assets].map((a: any) => a.id)));
      for (const image of images) {
        expect(Object.keys(image).sort()).toEqual(['collection', 'createdAt', 'expiresAt', 'height', 'id', 'imageUrl', 'libraryId', 'modelUsed', 'prompt', 'runId', 'thumbnailUrl', 'type', 'width'].sort());
        expect(image).toMatchObject({ width: 512, height: 384, modelUsed: 'preview', imageUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/media\//) });
        expect(image.prompt).toBe(image.runId === runA.runId ? 'a quiet harbour' : 'a bright meadow');
      }
    });

    it('pages with perPage=2 without overlap and with the right total', async () => {
      const pages = await Promise.all([1, 2, 3, 4].map((page) => user.get(`/api/images/history?page=${page}&perPage=2`)));
      for (const [i, res] of pages.entries()) {
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ total: 5, page: i + 1, perPage: 2 });
      }
      const ids = pages.map((p) => p.body.images.map((i: any) => i.id) as string[]);
      expect(ids.map((p) => p.length)).toEqual([2, 2, 1, 0]);
      const all = ids.flat();
      expect(new Set(all).size).toBe(5);
      const full = (await user.get('/api/images/history?perPage=100')).body.images.map((i: any) => i.id);
      expect(all).toEqual(full);
    });

    it('answers a page number too large for any offset with 422 invalid_parameter, not a 500', async () => {
      // 99999999999999999999 parses as 1e20: as an OFFSET it was a SQLite datatype mismatch.
      const res = await user.get('/api/images/history?page=99999999999999999999');
      expect(res.status, res.text).toBe(422);
      expect(res.body).toMatchObject({ code: 'invalid_parameter', field: 'page' });
      const far = await user.get('/api/images/history?page=1000000&perPage=100');
      expect(far.status, far.text).toBe(200);
      expect(far.body).toMatchObject({ images: [], total: 5, page: 1000000, perPage: 100 });
    });

    it('answers with and without a trailing slash', async () => {
      const [slash, plain] = await Promise.all([user.get('/api/images/history/?perPage=3'), user.get('/api/images/history?perPage=3')]);
      expect(slash.status).toBe(200);
      expect(plain.status).toBe(200);
      expect(slash.body.images.map((i: any) => i.id)).toEqual(plain.body.images.map((i: any) => i.id));
      expect(slash.body.total).toBe(5);
    });
  });

  describe('GET /api/images/:id', () => {
    it('returns the seed-003 detail shape', async () => {
      const asset = runA.assets[1];
      const res = await user.get(`/api/images/${asset.id}/`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: asset.id,
        runId: runA.runId,
        prompt: 'a quiet harbour',
        negativePrompt: 'fog',
        imageUrl: expect.stringContaining('/media/'),
        thumbnailUrl: expect.stringContaining('/media/'),
        width: 512,
        height: 384,
        modelUsed: 'preview',
        parameters: { steps: 4, cfgScale: 7.5, sampler: 'Euler', seed: 101 },
        metadata: { width: 512, height: 384, seed: 101, asset_index: 1, negative_prompt_used: true },
      });
      expect(typeof res.body.generationTime).toBe('number');
      expect(res.body.generationTime).toBeGreaterThan(0);
      expect(res.body.generationTime).toBeLessThan(60);
      expect(new Date(res.body.createdAt).toISOString()).toBe(res.body.createdAt);
      const plain = await user.get(`/api/images/${asset.id}`);
      expect(plain.body.id).toBe(asset.id);
    });

    it('gives image i of a batch the seed seed + i', async () => {
      for (const [run, base] of [[runA, 100], [runB, 200]] as const) {
        for (const asset of run.assets) {
          const detail = (await user.get(`/api/images/${asset.id}`)).body;
          expect(detail.parameters.seed).toBe(base + asset.index);
          expect(asset.metadata.seed).toBe(base + asset.index);
          const png = (await download(detail.imageUrl)).bytes;
          expect(await pngParameters(png)).toContain(`Seed: ${base + asset.index},`);
        }
      }
    });
  });

  describe('media files', () => {
    it('serves the original as a PNG with A1111 parameters', async () => {
      const detail = (await user.get(`/api/images/${runB.assets[2].id}`)).body;
      const { status, contentType, bytes } = await download(detail.imageUrl);
      expect(status).toBe(200);
      expect(contentType).toBe('image/png');
      const meta = await sharp(bytes).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 512, 384]);
      const text = await pngParameters(bytes);
      const [prompt, settings] = text.split('\n');
      expect(prompt).toBe('a bright meadow');
      expect(settings).toContain('Steps: 5, Sampler: Euler, CFG scale: 7.5, Seed: 202, Size: 512x384, Model: preview');
    });

    it('records the negative prompt on its own A1111 line', async () => {
      const { bytes } = await download(runA.assets[0].url);
      const lines = (await pngParameters(bytes)).split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[0]).toBe('a quiet harbour');
      expect(lines[1]).toBe('Negative prompt: fog');
      expect(lines[2]).toMatch(/^Steps: 4, Sampler: Euler, CFG scale: 7\.5, Seed: 100, Size: 512x384, Model: preview/);
    });

    it('serves a WEBP thumbnail whose longest edge is 256', async () => {
      const detail = (await user.get(`/api/images/${runA.assets[0].id}`)).body;
      const { status, contentType, bytes } = await download(detail.thumbnailUrl);
      expect(status).toBe(200);
      expect(contentType).toBe('image/webp');
      const meta = await sharp(bytes).metadata();
      expect(meta.format).toBe('webp');
      expect([meta.width, meta.height]).toEqual([256, 192]);
    });

    it('streams the same bytes to the owner at /api/images/:id/file', async () => {
      const asset = runB.assets[0];
      const viaUrl = await download(asset.url);
      const res = await fetch(`${t.url}/api/images/${asset.id}/file`, { headers: { authorization: `Bearer ${user.token}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/png');
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(bytes.equals(viaUrl.bytes)).toBe(true);
      expect(bytes.length).toBe(asset.metadata.file_size_bytes);
    });

    it('requires a token for /api/images/:id/file', async () => {
      const res = await fetch(`${t.url}/api/images/${runB.assets[0].id}/file`);
      expect(res.status).toBe(401);
    });

    it('refuses a tampered signature with 403 signature_invalid', async () => {
      const url = new URL(runA.assets[0].url);
      const signature = url.searchParams.get('signature')!;
      url.searchParams.set('signature', `${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`);
      const res = await fetch(url);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ code: 'signature_invalid' });
    });

    it('refuses a signature moved to another key or a changed expiry', async () => {
      const a = new URL(runA.assets[0].url);
      const b = new URL(runA.assets[1].url);
      a.pathname = b.pathname;
      expect((await fetch(a)).status).toBe(403);
      const later = new URL(runA.assets[0].url);
      later.searchParams.set('expires', String(Number(later.searchParams.get('expires')) + 3600));
      expect((await fetch(later)).status).toBe(403);
    });

    it('refuses a missing signature or expiry with 403', async () => {
      const url = new URL(runA.assets[0].url);
      const noSig = new URL(url);
      noSig.searchParams.delete('signature');
      const noExp = new URL(url);
      noExp.searchParams.delete('expires');
      for (const bad of [noSig, noExp, new URL(url.pathname, url)]) {
        const res = await fetch(bad);
        expect(res.status).toBe(403);
        expect(await res.json()).toMatchObject({ code: 'signature_invalid' });
      }
    });

    it('refuses a correctly signed but expired URL with 403', async () => {
      const url = new URL(runA.assets[0].url);
      const key = decodeURIComponent(url.pathname.replace(/^\/media\//, ''));
      const signer = createUrlSigner(SIGNING_SECRET);
      // Sanity: our signer matches the server's, so a fresh URL signed here is accepted.
      const fresh = signer.sign(key, new Date(Date.now() + 60_000));
      // Read to the end: a body left unread keeps the connection busy (close() cuts it since).
      expect((await download(`${t.url}/media/${key}?expires=${fresh.expires}&signature=${fresh.signature}`)).status).toBe(200);
      const old = signer.sign(key, new Date(Date.now() - 60_000));
      const res = await fetch(`${t.url}/media/${key}?expires=${old.expires}&signature=${old.signature}`);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ code: 'signature_invalid' });
    });

    it('does not serve paths outside the storage root', async () => {
      const res = await fetch(`${t.url}/media/..%2F..%2Fsigning-secret?expires=9999999999&signature=x`);
      expect(res.status).toBe(403);
      expect(await res.text()).not.toContain(SIGNING_SECRET);
    });
  });

  describe('DELETE /api/images/:id', () => {
    it('deletes the row and both files; links stop working', async () => {
      const run = await user.generate({ prompt: 'a doomed sketch', width: 512, height: 512, steps: 3, seed: 7 });
      const asset = run.assets[0];
      const original = join(t.dataDir, 'media', 'workspace-temp', userId, run.runId, `${asset.index}.png`);
      const thumb = join(t.dataDir, 'media', 'workspace-temp', userId, run.runId, `${asset.index}.thumb.webp`);
      expect(existsSync(original)).toBe(true);
      expect(existsSync(thumb)).toBe(true);
      expect((await user.get('/api/images/history')).body.total).toBe(6);

      const res = await user.delete(`/api/images/${asset.id}/`);
      expect(res.status).toBe(204);
      expect(res.text).toBe('');

      const gone = await user.get(`/api/images/${asset.id}`);
      expect(gone.status).toBe(404);
      expect(gone.body).toMatchObject({ code: 'not_found' });
      expect((await user.get(`/api/images/${asset.id}/file`)).status).toBe(404);
      expect((await download(asset.url)).status).toBe(404);
      expect((await download(asset.thumbnailUrl)).status).toBe(404);
      expect(existsSync(original)).toBe(false);
      expect(existsSync(thumb)).toBe(false);

      const history = (await user.get('/api/images/history')).body;
      expect(history.total).toBe(5);
      expect(history.images.map((i: any) => i.id)).not.toContain(asset.id);
      // A second delete is a 404, not a 500.
      expect((await user.delete(`/api/images/${asset.id}`)).status).toBe(404);
    });

    it('deletes one image of a batch and keeps its siblings', async () => {
      const victim = runA.assets[0];
      const sibling = runA.assets[1];
      expect((await user.delete(`/api/images/${victim.id}`)).status).toBe(204);
      expect((await user.get(`/api/images/${victim.id}`)).status).toBe(404);
      expect((await user.get(`/api/images/${sibling.id}`)).status).toBe(200);
      expect((await download(sibling.url)).status).toBe(200);
      expect((await user.get('/api/images/history')).body.total).toBe(4);
    });
  });
});

describe('videos next to images (the web gallery)', () => {
  let t: TestServer;
  let user: ApiClient;
  let image: any;
  let video: any;

  beforeAll(async () => {
    t = await startTestServer();
    user = apiClient(t, (await t.addUser('mixed')).token);
    image = (await user.generate({ prompt: 'a lighthouse', width: 256, height: 256, steps: 3, seed: 7 })).assets[0];
    const submitted = await user.post('/api/generate/text-to-video', { model: 'preview-t2v', prompt: 'waves', width: 320, height: 192, num_frames: 8, fps: 8, seed: 3 });
    expect(submitted.status, submitted.text).toBe(202);
    const done = await user.waitFor(submitted.body.runId);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    video = done.assets[0];
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists images only by default, videos with type=video, and both newest first with type=all', async () => {
    const images = (await user.get('/api/images/history')).body;
    expect(images.total).toBe(1);
    expect(images.images.map((i: any) => [i.id, i.type])).toEqual([[image.id, 'image']]);

    const videos = (await user.get('/api/images/history?type=video')).body;
    expect(videos.images.map((i: any) => [i.id, i.type])).toEqual([[video.id, 'video']]);

    const all = (await user.get('/api/images/history?type=all&perPage=1')).body;
    expect(all.total).toBe(2);
    expect(all.images.map((i: any) => i.id)).toEqual([video.id]);
    const second = (await user.get('/api/images/history?type=all&perPage=1&page=2')).body;
    expect(second.images.map((i: any) => i.id)).toEqual([image.id]);

    // The video's thumbnail is its poster: a real image the browser can show.
    const poster = await download(all.images[0].thumbnailUrl);
    expect(poster.status).toBe(200);
    expect(poster.contentType).toBe('image/webp');
    expect((await user.get('/api/images/history?type=sound')).status).toBe(422);
  });

  it('shows, saves and deletes a video through the same item routes', async () => {
    const detail = await user.get(`/api/images/${video.id}`);
    expect(detail.status, detail.text).toBe(200);
    expect(detail.body).toMatchObject({ id: video.id, type: 'video', width: 320, height: 192, parameters: { seed: 3 }, libraryId: null });
    expect((await download(detail.body.imageUrl)).contentType).toBe('video/mp4');

    const saved = await user.post(`/api/images/${video.id}/save`);
    expect(saved.status, saved.text).toBe(201);
    expect(saved.body).toMatchObject({ type: 'video', collection: 'library', libraryId: saved.body.id });
    // The workspace item now points at its library copy, and the copy at itself.
    expect((await user.get(`/api/images/${video.id}`)).body.libraryId).toBe(saved.body.id);
    expect((await user.get(`/api/images/${saved.body.id}`)).body).toMatchObject({ collection: 'library', libraryId: saved.body.id });
    const library = (await user.get('/api/images/history?type=all&collection=library')).body;
    expect(library.images.map((i: any) => i.id)).toEqual([saved.body.id]);

    expect((await user.delete(`/api/images/${video.id}`)).status).toBe(204);
    expect((await user.get(`/api/images/${video.id}`)).status).toBe(404);
    expect((await user.get('/api/images/history?type=all&collection=workspace')).body.images.map((i: any) => i.id)).toEqual([image.id]);
  });
});
