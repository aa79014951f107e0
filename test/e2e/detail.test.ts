import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot, startAppServer, useBrowser } from '../helpers/browser.js';
import type { TestServer } from '../helpers/test-server.js';
import { adminApi, field, generateButton, generateViaApi, submittedBody, waitForForm, waitForImagesLoaded, waitForResults } from './flows.js';

const b = useBrowser();
let server: TestServer;

beforeAll(async () => {
  server = await startAppServer();
});
afterAll(async () => {
  await server?.close();
});

/** A finished run of its own for each test (they change or delete what they look at). */
async function makeImage(prompt: string, extra: Record<string, unknown> = {}): Promise<{ run: any; asset: any }> {
  const run = await generateViaApi(server, { prompt, seed: 1234, steps: 6, cfg_scale: 5.5, sampler: 'DPM++ 2M', negative_prompt: 'blurry', ...extra });
  return { run, asset: run.assets[0] };
}

describe('detail', () => {
  it('shows the full image, every parameter with the seed, and a download of the original', async () => {
    const { run, asset } = await makeImage('an orchard in spring', { width: 320, height: 256 });
    const { page, unexpectedProblems } = await b.openApp(server, { path: `/images/${asset.id}` });
    const detail = page.getByTestId('asset-detail');
    await detail.waitFor();
    await waitForImagesLoaded(detail);
    const size = await detail.locator('img').first().evaluate((img: any) => ({ w: img.naturalWidth as number, h: img.naturalHeight as number }));
    expect(size.w / size.h).toBeCloseTo(320 / 256, 2);
    const parameters = (await page.getByTestId('parameters').textContent()) ?? '';
    for (const value of ['an orchard in spring', 'blurry', '1234', '6', '5.5', 'DPM++ 2M', '320', '256']) expect(parameters).toContain(value);
    expect(await page.getByTestId('parameters').locator('dt').count()).toBeGreaterThanOrEqual(6);
    expect(run.seed).toBe(1234);

    const download = page.getByRole('link', { name: 'Download' });
    const href = await download.getAttribute('href');
    const file = await fetch(new URL(href!, server.url));
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');
    await screenshot(page, 'detail');
    expect(unexpectedProblems()).toEqual([]);
  });

  it('Copy parameters puts them on the clipboard', async () => {
    const { asset } = await makeImage('a copper kettle');
    const { page, context, unexpectedProblems } = await b.openApp(server, { path: `/images/${asset.id}` });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await page.getByRole('button', { name: 'Copy parameters' }).click();
    await page.getByRole('status').getByText('Copied').waitFor();
    const text = await page.evaluate((): Promise<string> => (globalThis as any).navigator.clipboard.readText());
    expect(text).toContain('a copper kettle');
    expect(text).toMatch(/Seed: 1234/);
    expect(unexpectedProblems()).toEqual([]);
  });

  it('Reuse settings opens Generate with the job’s prompt, seed and steps, and renders the same picture', async () => {
    // At the model's own size for 1:1; an explicit other size is the next test.
    const { asset } = await makeImage('a heron at low tide', { steps: 9, seed: 98765, width: undefined, height: undefined, aspect_ratio: '1:1' });
    const { page, unexpectedProblems } = await b.openApp(server, { path: `/images/${asset.id}` });
    await page.getByRole('button', { name: 'Reuse settings' }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe('/');
    await waitForForm(page);
    await expect.poll(() => field(page, 'Prompt').inputValue()).toBe('a heron at low tide');
    expect(await field(page, 'Seed').inputValue()).toBe('98765');
    expect(await field(page, 'Steps').inputValue()).toBe('9');
    expect(await field(page, 'Negative prompt').inputValue()).toBe('blurry');
    expect(await field(page, 'Sampler').inputValue()).toBe('DPM++ 2M');
    expect(await page.getByRole('button', { name: 'Lock seed' }).getAttribute('aria-pressed')).toBe('true');

    const sent = await submittedBody(page, () => generateButton(page).click());
    expect(sent.path).toBe('/api/generate/text-to-image');
    expect(sent.body).toMatchObject({ prompt: 'a heron at low tide', seed: 98765, steps: 9, cfg_scale: 5.5, sampler: 'DPM++ 2M', negative_prompt: 'blurry' });
    // Same settings, same seed: the preview renderer gives the same bytes.
    const again = await waitForResults(page, server, sent.run.runId);
    const bytes = async (url: string) => Buffer.from(await (await fetch(url)).arrayBuffer());
    expect((await bytes(again.assets[0].url)).equals(await bytes(asset.url))).toBe(true);
    expect(unexpectedProblems()).toEqual([]);
  });

  it('Reuse settings of an explicit size (320×256) renders the same 320×256 picture', async () => {
    const { asset } = await makeImage('an orchard in spring', { seed: 77, steps: 5, width: 320, height: 256 });
    const { page, unexpectedProblems } = await b.openApp(server, { path: `/images/${asset.id}` });
    await page.getByRole('button', { name: 'Reuse settings' }).click();
    await waitForForm(page);
    await expect.poll(() => field(page, 'Prompt').inputValue()).toBe('an orchard in spring');
    const sent = await submittedBody(page, () => generateButton(page).click());
    expect(sent.run.parameters).toMatchObject({ width: 320, height: 256, seed: 77, steps: 5 });
    const again = await waitForResults(page, server, sent.run.runId);
    const bytes = async (url: string) => Buffer.from(await (await fetch(url)).arrayBuffer());
    expect((await bytes(again.assets[0].url)).equals(await bytes(asset.url))).toBe(true);
    expect(unexpectedProblems()).toEqual([]);
  });

  it('Use as reference opens Image to image with this image as the reference', async () => {
    const { asset } = await makeImage('a stone bridge');
    const { page, unexpectedProblems } = await b.openApp(server, { path: `/images/${asset.id}` });
    await page.getByRole('button', { name: 'Use as reference' }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe('/');
    await waitForForm(page);
    await expect.poll(() => page.getByRole('tab', { selected: true }).textContent()).toBe('Image to image');
    const preview = page.getByRole('img', { name: 'Reference preview' });
    await preview.waitFor();
    await expect.poll(() => preview.evaluate((img: any) => img.naturalWidth as number)).toBeGreaterThan(0);

    await field(page, 'Prompt').fill('the same bridge at night');
    const sent = await submittedBody(page, () => generateButton(page).click());
    expect(sent.path).toBe('/api/generate/image-to-image');
    expect(sent.body.reference_image).toEqual({ asset_id: asset.id });
    const done = await waitForResults(page, server, sent.run.runId);
    expect(done.parameters.referenceImage).toBeTruthy();
    expect(unexpectedProblems()).toEqual([]);
  });

  it('Save to library keeps a copy the Library filter lists', async () => {
    const { run, asset } = await makeImage('a lighthouse keeper’s journal');
    const api = adminApi(server);
    const { page, unexpectedProblems } = await b.openApp(server, { path: `/images/${asset.id}` });
    await page.getByRole('button', { name: 'Save to library' }).click();
    await page.getByText('Saved to library').waitFor();

    const library = await api.get('/api/images/history?collection=library&type=all');
    const saved = library.body.images.filter((item: any) => item.runId === run.runId);
    expect(saved).toHaveLength(1);

    await page.goto(`${server.url}/history`);
    await page.getByRole('radio', { name: 'Library' }).click();
    const gallery = page.getByTestId('gallery');
    await gallery.locator(`a[href="/images/${saved[0].id}"]`).waitFor();
    expect(await gallery.getByRole('link').count()).toBe(library.body.images.length);
    // The workspace original is still there too.
    await page.getByRole('radio', { name: 'Workspace' }).click();
    await gallery.locator(`a[href="/images/${asset.id}"]`).waitFor();
    expect(unexpectedProblems()).toEqual([]);
  });

  it('Delete asks first (Keep keeps it), then deletes for good and returns to History', async () => {
    const { asset } = await makeImage('a sandcastle at high tide');
    const api = adminApi(server);
    const { page, unexpectedProblems } = await b.openApp(server, { path: `/images/${asset.id}` });
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Keep' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect((await api.get(`/api/images/${asset.id}`)).status).toBe(200);

    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await dialog.getByRole('button', { name: 'Delete permanently' }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe('/history');
    await page.getByTestId('gallery').or(page.getByText('Nothing here yet')).first().waitFor();
    await expect(page.locator(`a[href="/images/${asset.id}"]`).count()).resolves.toBe(0);
    expect((await api.get(`/api/images/${asset.id}`)).status).toBe(404);
    expect(unexpectedProblems()).toEqual([]);
  });

  it('an id that does not exist says so', async () => {
    const { page, unexpectedProblems } = await b.openApp(server, { path: '/images/00000000-0000-0000-0000-000000000000' });
    await page.getByRole('heading', { name: 'Image not found' }).waitFor();
    expect(unexpectedProblems([/404/])).toEqual([]);
  });
});
