import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { overflowsHorizontally, PHONE, screenshot, startAppServer, useBrowser } from '../helpers/browser.js';
import type { TestServer } from '../helpers/test-server.js';
import { fillForm, generateViaApi, submitRun, waitForForm, waitForImagesLoaded, waitForResults } from './flows.js';

const b = useBrowser();
let server: TestServer;
let wide: any;

// A wide 16:9 image and a batch, so the phone has pictures and long rows to fit.
beforeAll(async () => {
  server = await startAppServer();
  wide = await generateViaApi(server, { prompt: 'a very wide panorama of a mountain range at first light, with a long prompt that has to wrap', aspect_ratio: '16:9', width: undefined, height: undefined, steps: 2 });
  await generateViaApi(server, { prompt: 'small squares', num_images: 4 });
});
afterAll(async () => {
  await server?.close();
});

describe('at phone width (375 px)', () => {
  it('Generate fits without sideways scrolling, before and after a run', async () => {
    const { page, unexpectedProblems } = await b.openApp(server, { viewport: PHONE });
    await waitForForm(page);
    expect(await overflowsHorizontally(page)).toMatchObject({ overflows: false });
    await page.getByRole('tab', { name: 'Image to image' }).click();
    expect(await overflowsHorizontally(page)).toMatchObject({ overflows: false });
    await page.getByRole('tab', { name: 'Text to image' }).click();
    await fillForm(page, { Prompt: 'a lighthouse on a phone screen', Steps: 3, 'Number of images': 2 });
    const run = await submitRun(page);
    await waitForResults(page, server, run.runId);
    await waitForImagesLoaded(page.getByTestId('variant-grid'));
    expect(await overflowsHorizontally(page)).toMatchObject({ overflows: false });
    await screenshot(page, 'phone-generate');
    await screenshot(page, 'phone-generate-full', { fullPage: true });
    expect(unexpectedProblems()).toEqual([]);
  });

  it('History fits', async () => {
    const { page, unexpectedProblems } = await b.openApp(server, { viewport: PHONE, path: '/history' });
    await waitForImagesLoaded(page.getByTestId('gallery'));
    expect(await overflowsHorizontally(page)).toMatchObject({ overflows: false });
    await screenshot(page, 'phone-history');
    expect(unexpectedProblems()).toEqual([]);
  });

  it('Detail of a wide image fits, with its actions and parameters', async () => {
    const { page, unexpectedProblems } = await b.openApp(server, { viewport: PHONE, path: `/images/${wide.assets[0].id}` });
    const detail = page.getByTestId('asset-detail');
    await waitForImagesLoaded(detail);
    await page.getByTestId('parameters').waitFor();
    expect(await overflowsHorizontally(page)).toMatchObject({ overflows: false });
    // The image is scaled to the screen, not cropped off it.
    const box = await detail.locator('img').first().boundingBox();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(PHONE.width);
    await screenshot(page, 'phone-detail', { fullPage: true });
    expect(unexpectedProblems()).toEqual([]);
  });
});
