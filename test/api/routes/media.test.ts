import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from '../../helpers/api.js';
import { startInjectServer, type InjectServer } from '../../helpers/test-server.js';

/** Byte ranges on stored media: what a browser's <video> (Safari always) and a resuming download ask for. */
describe('media files with Range', () => {
  let t: InjectServer;
  let owner: ApiClient;
  let video: any;
  let image: any;
  let whole: Buffer;

  beforeAll(async () => {
    t = await startInjectServer();
    owner = apiClient(t, (await t.addUser('viewer')).token);
    const clip = await owner.post('/api/generate/text-to-video', { model: 'preview-t2v', prompt: 'a slow tide', width: 320, height: 192, num_frames: 8, fps: 8, seed: 3 });
    video = (await owner.waitFor(clip.body.runId)).assets[0];
    image = (await owner.generate({ prompt: 'a range of hills', width: 256, height: 256, steps: 2, seed: 5 })).assets[0];
    const full = await owner.get(video.url);
    expect(full.status).toBe(200);
    expect(full.headers.get('accept-ranges')).toBe('bytes');
    whole = full.bytes;
    expect(whole.subarray(4, 8).toString('latin1')).toBe('ftyp');
  });
  afterAll(async () => {
    await t?.close();
  });

  const ranged = (url: string, range: string, headers: Record<string, string> = {}) => owner.get(url, { range, ...headers });

  it('answers a signed video URL’s single range with 206 and exactly those bytes', async () => {
    for (const [range, start, end] of [['bytes=0-1', 0, 1], [`bytes=100-`, 100, whole.length - 1], ['bytes=-16', whole.length - 16, whole.length - 1], [`bytes=10-${whole.length + 500}`, 10, whole.length - 1]] as const) {
      const res = await ranged(video.url, range);
      expect(res.status, range).toBe(206);
      expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${whole.length}`);
      expect(Number(res.headers.get('content-length'))).toBe(end - start + 1);
      expect(res.headers.get('content-type')).toBe('video/mp4');
      expect(res.bytes).toEqual(whole.subarray(start, end + 1));
    }
  });

  it('refuses a range past the end with 416, the size in Content-Range and a JSON error', async () => {
    const res = await ranged(video.url, `bytes=${whole.length}-`);
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe(`bytes */${whole.length}`);
    expect(res.body).toMatchObject({ code: 'range_not_satisfiable' });
  });

  it('sends the whole file for several ranges, a range it cannot read, or an If-Range it cannot check', async () => {
    for (const [range, headers] of [['bytes=0-1,5-6', {}], ['bytes=5-2', {}], ['pages=1-2', {}], ['bytes=0-1', { 'if-range': 'Wed, 21 Oct 2015 07:28:00 GMT' }]] as const) {
      const res = await ranged(video.url, range, headers);
      expect(res.status, range).toBe(200);
      expect(res.bytes).toEqual(whole);
    }
  });

  it('still checks the signature before any range', async () => {
    const tampered = new URL(video.url, t.origin);
    tampered.searchParams.set('signature', 'x'.repeat(43));
    const res = await ranged(tampered.toString(), 'bytes=0-1');
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'signature_invalid' });
  });

  it('serves the owner’s original through /api/images/{id}/file by range too', async () => {
    const full = await owner.get(`/api/images/${image.id}/file`);
    expect(full.status).toBe(200);
    expect(full.headers.get('accept-ranges')).toBe('bytes');
    const head = await ranged(`/api/images/${image.id}/file`, 'bytes=0-7');
    expect(head.status).toBe(206);
    expect(head.headers.get('content-type')).toBe('image/png');
    expect(head.headers.get('content-range')).toBe(`bytes 0-7/${full.bytes.length}`);
    expect(head.bytes).toEqual(full.bytes.subarray(0, 8));
    const other = apiClient(t, (await t.addUser('stranger')).token);
    expect((await other.get(`/api/images/${image.id}/file`, { range: 'bytes=0-7' })).status).toBe(404);
  });
});
