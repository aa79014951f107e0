import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

/**
 * Images by URL (uploads and img2img references) go through the SSRF-safe fetcher: a
 * loopback or metadata address is refused, at the first hop or after a redirect. Only the
 * one fixture destination the test names is let through, to show the happy path.
 */
describe('images by URL', () => {
  let fixture: http.Server;
  let origin: string;
  let allowed: InjectServer;
  let strict: InjectServer;
  let a: ApiClient;
  let s: ApiClient;

  beforeAll(async () => {
    const png = await sharp({ create: { width: 80, height: 60, channels: 3, background: '#3366cc' } }).png().toBuffer();
    fixture = http.createServer((req, res) => {
      if (req.url === '/image.png') return void res.writeHead(200, { 'content-type': 'image/png' }).end(png);
      if (req.url === '/to-metadata') return void res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => fixture.listen(0, '127.0.0.1', resolve));
    const { port } = fixture.address() as AddressInfo;
    origin = `http://127.0.0.1:${port}`;
    // Only the fixture needs a socket: the server fetches from it, never from itself.
    allowed = await startInjectServer({}, { unsafeAllowUrlDestinations: [`127.0.0.1:${port}`] });
    strict = await startInjectServer();
    a = apiClient(allowed, allowed.adminToken);
    s = apiClient(strict, strict.adminToken);
  });
  afterAll(async () => {
    await allowed.close();
    await strict.close();
    await new Promise((resolve) => fixture.close(resolve));
  });

  it('uploads an image fetched from a URL, validated like any upload', async () => {
    const res = await a.post('/api/uploads/from-url', { url: `${origin}/image.png` });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ status: 'ready', metadata: { format: 'png', width: 80, height: 60 } });
  });

  it('takes an img2img reference by URL', async () => {
    const res = await a.post('/api/generate/image-to-image', { prompt: '', exact_copy_mode: true, width: 80, height: 64, reference_image: { url: `${origin}/image.png` } });
    expect(res.status, res.text).toBe(202);
    expect(res.body.parameters.referenceImage).toMatchObject({ width: 80, height: 60, format: 'png' });
    expect((await a.waitFor(res.body.runId)).status).toBe('succeeded');
  });

  it('refuses loopback, metadata and private addresses, and redirects to them', async () => {
    for (const url of [`${origin}/image.png`, 'http://169.254.169.254/latest/meta-data/', 'http://[::1]/x.png', 'http://10.0.0.8/x.png', 'file:///etc/passwd']) {
      const res = await s.post('/api/uploads/from-url', { url });
      expect(res.status, url).toBe(422);
      expect(res.body.code, url).toBe('url_refused');
    }
    const redirected = await a.post('/api/uploads/from-url', { url: `${origin}/to-metadata` });
    expect(redirected.status).toBe(422);
    expect(redirected.body.code).toBe('url_refused');
    const ref = await s.post('/api/generate/image-to-image', { prompt: 'x', reference_image: { url: `${origin}/image.png` } });
    expect(ref.status).toBe(422);
    expect(ref.body).toMatchObject({ code: 'url_refused', field: 'reference_image' });
  });
});
