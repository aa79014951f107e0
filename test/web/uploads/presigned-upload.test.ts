// @vitest-environment jsdom
// @vitest-environment-options { "url": "http://127.0.0.1:29413/" }
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveToken } from '../../../web/src/auth/token';
import { uploadImage } from '../../../web/src/features/uploads/presigned-upload';
import { client, startRealServer, type RealServer } from '../generate/real-server';

/** The page's origin above: jsdom fixes an XMLHttpRequest's origin when the window is made. */
// Below Linux's ephemeral range (32768–60999), so no outgoing connection can hold it.
const PORT = '29413';

/**
 * The browser's presigned upload against a real server: jsdom's XMLHttpRequest does real
 * HTTP, and the page sits on the server's origin (as the app does) so the relative API
 * paths and the same-origin PUT behave as in the browser.
 */
describe('presigned upload with progress', () => {
  let t: RealServer;
  const nodeFetch = globalThis.fetch;

  beforeAll(async () => {
    t = await startRealServer({ PORT });
    expect(location.origin).toBe(t.url);
    saveToken(t.adminToken);
    // Node's fetch has no page to resolve relative URLs against; the browser's does.
    globalThis.fetch = (input, init) => nodeFetch(new URL(String(input), location.href), init);
  });
  afterAll(async () => {
    globalThis.fetch = nodeFetch;
    await t?.close();
  });

  it('uploads a PNG, reports progress up to 1, and the upload is ready to use', async () => {
    const png = await sharp({ create: { width: 320, height: 200, channels: 3, background: { r: 200, g: 30, b: 30 } } }).png().toBuffer();
    const progress: number[] = [];
    const view = await uploadImage(new File([new Uint8Array(png)], 'red.png', { type: 'image/png' }), (fraction) => progress.push(fraction));
    expect(view).toMatchObject({ status: 'ready', filename: 'red.png', metadata: { width: 320, height: 200, format: 'png' } });
    expect(progress.at(-1)).toBe(1);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);

    const api = client(t);
    expect((await api.get(`/api/uploads/${view.uploadId}`)).body).toMatchObject({ status: 'ready' });
    const job = await api.post('/api/generate/image-to-image', { prompt: 'darker', reference_image: { upload_id: view.uploadId }, steps: 4 });
    expect(job.status, job.text).toBe(202);
    expect(job.body.parameters.referenceImage).toMatchObject({ uploadId: view.uploadId, width: 320, height: 200 });
  });

  it('a file that is not an image is refused with the server’s message', async () => {
    const bytes = new TextEncoder().encode('definitely not a picture');
    await expect(uploadImage(new File([bytes], 'notes.png', { type: 'image/png' }), () => undefined)).rejects.toMatchObject({ name: 'ApiError', code: 'invalid_image', message: expect.stringMatching(/PNG, JPEG or WEBP/) });
  });
});
