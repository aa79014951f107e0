import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { startAppServer, useBrowser } from '../helpers/browser.js';
import type { TestServer } from '../helpers/test-server.js';
import { adminApi, generateViaApi, submitRun, waitForImagesLoaded, waitForResults } from './flows.js';
import { generate, queueItem, resultSizes } from './studio-flows.js';
import { studioShot } from './studio-shots.js';

const b = useBrowser();
let server: TestServer;

const WIDE = { width: 1440, height: 900 } as const;
const PHONE = { width: 390, height: 844 } as const;

beforeAll(async () => {
  server = await startAppServer();
});
afterAll(async () => {
  await server?.close();
});

/** A signed media URL without its signature (a later view of the run signs it again). */
const mediaPath = (url: string): string => new URL(url).pathname;

/** Where an asset's `high` delivery variant is. */
const highPath = (asset: any): string => mediaPath(asset.variants.find((v: any) => v.name === 'high').url);

/** Opens the Generate screen on a run made over the API (small and quick). */
async function openRun(run: any, viewport: { width: number; height: number } = WIDE) {
  const app = await b.openApp(server, { path: `/generate?run=${run.runId}`, viewport });
  await waitForImagesLoaded(app.page.getByTestId('variant-grid'));
  return app;
}

/** Whether the window's last two columns of pixels, beside the viewer's top bar, show the viewer's near-black. */
async function viewerEdge(page: Page, viewport: { width: number }) {
  const shot = await page.screenshot({ clip: { x: viewport.width - 2, y: 4, width: 2, height: 24 } });
  const { data } = await sharp(shot).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { viewerDark: Math.max(...data) < 40 };
}

const viewerImage = (page: Page, n: number) => page.getByTestId('lightbox').getByRole('img', { name: `Result ${n}, full size` });

describe('results on the canvas', () => {
  it('are shown large — the high variant fitted to the panel — each with its seed', async () => {
    const { page, unexpectedProblems } = await b.openApp(server, { viewport: WIDE });
    const one = await generate(page, server, { Prompt: 'one large lighthouse', Steps: 3 });
    await waitForImagesLoaded(page.getByTestId('variant-grid'));
    const [single] = await resultSizes(page);
    // One 1024² result fills the canvas's height (the thumbnails were ~180 px).
    expect(single!.height).toBeGreaterThan(560);
    expect(mediaPath((await page.getByRole('img', { name: 'Result 1' }).getAttribute('src'))!)).toBe(highPath(one.assets[0]));

    const four = await generate(page, server, { Prompt: 'four large lighthouses', Steps: 3, 'Number of images': 4 });
    const grid = page.getByTestId('variant-grid');
    expect(await waitForImagesLoaded(grid)).toBe(4);
    const sizes = await resultSizes(page);
    for (const size of sizes) expect(size.width).toBeGreaterThan(250);
    // The whole batch is in view without scrolling.
    const last = await grid.getByRole('img', { name: 'Result 4' }).boundingBox();
    expect(last!.y + last!.height).toBeLessThanOrEqual(WIDE.height);
    const ordered = [...four.assets].sort((x: any, y: any) => x.index - y.index);
    const sources: string[] = await grid.getByRole('img').evaluateAll((all: any[]) => all.map((img) => img.getAttribute('src')));
    expect(sources.map(mediaPath)).toEqual(ordered.map(highPath));
    expect(await grid.getByTestId('result-seed').allTextContents()).toEqual(ordered.map((asset: any) => `Seed ${asset.metadata.seed}`));
    expect(new Set(ordered.map((asset: any) => asset.metadata.seed)).size).toBe(4);
    await studioShot(page, 'generate-results-1440');
    expect(unexpectedProblems()).toEqual([]);
  });

  it('open in a viewer: zoom, arrow keys, download, compare two side by side, Escape closes', async () => {
    const run = await generateViaApi(server, { prompt: 'a viewer of two pictures', num_images: 3, width: 512, height: 384 });
    const assets = [...run.assets].sort((x: any, y: any) => x.index - y.index);
    const { page, unexpectedProblems } = await openRun(run);
    const view = page.getByRole('button', { name: 'View result 1' });
    await view.click();
    const dialog = page.getByTestId('lightbox');
    await dialog.waitFor();
    const first = viewerImage(page, 1);
    await first.waitFor();
    expect(mediaPath((await first.getAttribute('src'))!)).toBe(mediaPath(assets[0].url));
    await expect.poll(async () => (await first.boundingBox())?.width ?? 0).toBeGreaterThan(800);
    const fitted = (await first.boundingBox())!;

    // Zoom in twice (+, then the button), and back to fit with 0.
    await page.keyboard.press('+');
    await expect.poll(() => dialog.getByTestId('lightbox-zoom').textContent()).toBe('1.5×');
    await dialog.getByRole('button', { name: 'Zoom in' }).click();
    await expect.poll(() => dialog.getByTestId('lightbox-zoom').textContent()).toBe('2×');
    const zoomed = (await first.boundingBox())!;
    expect(zoomed.width / fitted.width).toBeCloseTo(2, 1);
    await page.keyboard.press('0');
    await expect.poll(async () => Math.round((await first.boundingBox())!.width)).toBe(Math.round(fitted.width));
    await studioShot(page, 'lightbox-1440');

    // A double click zooms to 2×; the zoomed picture is dragged to look around.
    await first.dblclick();
    await expect.poll(() => dialog.getByTestId('lightbox-zoom').textContent()).toBe('2×');
    const stage = dialog.getByTestId('lightbox-stage');
    const scroll = () => stage.evaluate((el: any) => ({ left: el.scrollLeft as number, top: el.scrollTop as number }));
    const start = await scroll();
    const centre = (await stage.boundingBox())!;
    await page.mouse.move(centre.x + centre.width / 2, centre.y + centre.height / 2);
    await page.mouse.down();
    await page.mouse.move(centre.x + centre.width / 2 - 150, centre.y + centre.height / 2 - 100, { steps: 5 });
    await page.mouse.up();
    const moved = await scroll();
    expect(moved.left - start.left).toBeGreaterThan(100);
    expect(moved.top - start.top).toBeGreaterThan(50);
    await first.dblclick();
    await expect.poll(() => dialog.getByTestId('lightbox-zoom').textContent()).toBe('Fit');

    // Arrow keys step through the run's results.
    await page.keyboard.press('ArrowRight');
    await viewerImage(page, 2).waitFor();
    await dialog.getByText(`Result 2 · seed ${assets[1].metadata.seed}`).waitFor();
    await page.keyboard.press('ArrowRight');
    await viewerImage(page, 3).waitFor();
    await page.keyboard.press('ArrowLeft');
    await viewerImage(page, 2).waitFor();

    // Download saves the original of the one shown.
    const [download] = await Promise.all([page.waitForEvent('download'), dialog.getByRole('link', { name: 'Download' }).click()]);
    expect(mediaPath(download.url())).toBe(mediaPath(assets[1].url));
    expect(download.suggestedFilename()).toMatch(/-2\.png$/);

    // Compare: result 1 beside result 2.
    await dialog.getByLabel('Compare with').selectOption({ label: `Result 1 · seed ${assets[0].metadata.seed}` });
    // The panes re-fit their pictures a frame after the second one appears: wait for the layout.
    const sideBySide = async () => {
      const [l, r] = [await viewerImage(page, 2).boundingBox(), await viewerImage(page, 1).boundingBox()];
      return l !== null && r !== null && l.x + l.width <= r.x;
    };
    await expect.poll(sideBySide).toBe(true);
    const left = (await viewerImage(page, 2).boundingBox())!;
    const right = (await viewerImage(page, 1).boundingBox())!;
    expect(left.x + left.width).toBeLessThanOrEqual(right.x);
    expect(Math.abs(left.y - right.y)).toBeLessThan(40);
    // The viewer covers the whole window: the page's scrollbar gutter is not painted over its right edge.
    expect(await viewerEdge(page, WIDE)).toEqual({ viewerDark: true });
    expect(right.x + right.width).toBeLessThanOrEqual(WIDE.width);
    const close = (await dialog.getByRole('button', { name: 'Close' }).boundingBox())!;
    expect(close.x + close.width).toBeLessThanOrEqual(WIDE.width - 8);
    await studioShot(page, 'lightbox-compare-1440');

    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await view.evaluate((el: any) => el === (globalThis as any).document.activeElement)).toBe(true);
    expect(unexpectedProblems()).toEqual([]);
  });

  it('Vary queues the same settings with a new seed; Upscale queues hires fix at the image’s seed, twice the size', async () => {
    const run = await generateViaApi(server, { prompt: 'a small harbour to vary', num_images: 2, steps: 3, width: 256, height: 256, seed: 1000 });
    const { page, unexpectedProblems } = await openRun(run);
    const api = adminApi(server);

    const isRerun = (r: any) => r.request().method() === 'POST' && new URL(r.url()).pathname === `/api/runs/${run.runId}/rerun`;
    const [response] = await Promise.all([page.waitForResponse(isRerun), page.getByRole('button', { name: 'Vary result 1' }).click()]);
    expect(response.status()).toBe(202);
    const varied = await response.json();
    const done = await waitForResults(page, server, varied.runId);
    const { seed: _s, ...same } = run.parameters;
    const { seed, ...settings } = done.parameters;
    expect(settings).toEqual(same);
    expect(seed).not.toBe(run.seed);
    // The new run is selected on the canvas and in the queue.
    await expect.poll(() => queueItem(page, varied.runId).getAttribute('aria-current')).toBe('true');

    // Back to the first run in the queue, then upscale its second image.
    await queueItem(page, run.runId).getByRole('button').first().click();
    await page.getByRole('button', { name: 'Upscale result 2' }).waitFor();
    const second = run.assets.find((asset: any) => asset.index === 1);
    const upscale = await submitRun(page, () => page.getByRole('button', { name: 'Upscale result 2' }).click());
    const upscaled = await waitForResults(page, server, upscale.runId);
    expect(upscaled.parameters).toMatchObject({ prompt: 'a small harbour to vary', hiresFix: true, seed: second.metadata.seed, width: 512, height: 512, numImages: 1, steps: 3 });
    expect((await api.get(`/api/status/${upscale.runId}`)).body.status).toBe('succeeded');
    expect(unexpectedProblems()).toEqual([]);
  });

  it('fit a phone (390 px) without sideways scrolling, viewer included', async () => {
    const run = await generateViaApi(server, { prompt: 'a phone-sized batch', num_images: 4, steps: 2 });
    const { page, unexpectedProblems } = await openRun(run, PHONE);
    const width = () => page.evaluate((): number => (globalThis as any).document.documentElement.scrollWidth);
    expect(await width()).toBeLessThanOrEqual(PHONE.width);
    await page.getByTestId('variant-grid').scrollIntoViewIfNeeded();
    await studioShot(page, 'generate-results-390');
    await page.getByRole('button', { name: 'View result 2' }).click();
    await viewerImage(page, 2).waitFor();
    await expect.poll(async () => (await viewerImage(page, 2).boundingBox())?.width ?? 0).toBeGreaterThan(300);
    expect(await width()).toBeLessThanOrEqual(PHONE.width);
    expect(await viewerEdge(page, PHONE)).toEqual({ viewerDark: true });
    const shown = (await viewerImage(page, 2).boundingBox())!;
    expect(shown.x + shown.width).toBeLessThanOrEqual(PHONE.width - 8);
    await studioShot(page, 'lightbox-390');
    expect(unexpectedProblems()).toEqual([]);
  });
});
