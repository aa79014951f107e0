import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Response } from 'playwright-core';
import { startAppServer, useBrowser } from '../helpers/browser.js';
import type { TestServer } from '../helpers/test-server.js';
import { generateViaApi } from './flows.js';

const b = useBrowser();
let server: TestServer;
let assetId: string;

beforeAll(async () => {
  server = await startAppServer();
  assetId = (await generateViaApi(server, { prompt: 'a delivered picture', width: 64, height: 64, steps: 1 })).assets[0].id;
});
afterAll(async () => {
  await server?.close();
});

const isAsset = (extension: string) => (response: Response) => new URL(response.url()).pathname.startsWith('/assets/') && response.url().endsWith(extension);

describe('how the browser receives the playground', () => {
  it('gets the HTML of every screen revalidated (no-cache), and the hashed script and styles compressed and immutable', async () => {
    const app = await b.newPage();
    const { page } = app;
    const requested: string[] = [];
    page.on('request', (request) => requested.push(new URL(request.url()).pathname));
    const [script, styles, documentResponse] = await Promise.all([
      page.waitForResponse(isAsset('.js')),
      page.waitForResponse(isAsset('.css')),
      page.goto(`${server.url}/history?token=${server.adminToken}`),
    ]);
    expect(documentResponse!.headers()['cache-control']).toBe('no-cache');
    await page.getByRole('heading', { name: 'History' }).waitFor();
    for (const asset of [script, styles]) {
      const headers = await asset.allHeaders();
      expect(headers['cache-control']).toBe('public, max-age=31536000, immutable');
      // Chromium asks for gzip and Brotli; the server sends the copy the build wrote.
      expect(['br', 'gzip']).toContain(headers['content-encoding']);
      expect(Number(headers['content-length'])).toBeLessThan((await asset.body()).length / 2);
    }
    expect(requested.filter((path) => path.endsWith('.map'))).toEqual([]);
    expect(app.unexpectedProblems()).toEqual([]);
  });

  it('opens deep links and reloads on them as the app, never as JSON', async () => {
    const { page, unexpectedProblems } = await b.openApp(server, { path: `/images/${assetId}` });
    await page.getByTestId('asset-detail').waitFor();
    const reload = await page.reload();
    expect(reload!.headers()['content-type']).toBe('text/html; charset=utf-8');
    expect(reload!.headers()['cache-control']).toBe('no-cache');
    await page.getByTestId('asset-detail').waitFor();
    for (const path of ['/generate', '/admin', '/history?collection=library']) {
      const response = await page.goto(`${server.url}${path}`);
      expect(response!.status(), path).toBe(200);
      expect(response!.headers()['content-type'], path).toBe('text/html; charset=utf-8');
      expect(response!.headers()['cache-control'], path).toBe('no-cache');
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
    }
    expect(unexpectedProblems()).toEqual([]);
  });
});
