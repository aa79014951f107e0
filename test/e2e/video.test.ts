import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { screenshot, startAppServer, useBrowser } from '../helpers/browser.js';
import { scenePng } from '../helpers/synthetic-images.js';
import type { TestServer } from '../helpers/test-server.js';
import { field, fillForm, generateButton, submittedBody, waitForForm, waitForImagesLoaded, waitForResults } from './flows.js';

const b = useBrowser();
let server: TestServer;

beforeAll(async () => {
  server = await startAppServer();
});
afterAll(async () => {
  await server?.close();
});

/** Opens the first result and checks the detail page plays an MP4 of the expected length. */
async function openVideo(page: Page, run: any, seconds: number): Promise<void> {
  const asset = run.assets[0];
  expect(asset.type ?? asset.metadata?.format).toMatch(/video|mp4/);
  await page.getByTestId('variant-grid').locator(`a[href="/images/${asset.id}"]`).click();
  const video = page.getByTestId('asset-detail').locator('video');
  await video.waitFor();
  expect(await video.getAttribute('controls')).not.toBeNull();
  expect(await video.getAttribute('poster')).toBeTruthy();
  // Chromium reads the MP4's header: the clip is really there and as long as asked.
  await expect.poll(() => video.evaluate((v: any) => v.readyState as number), { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
  expect(await video.evaluate((v: any) => v.duration as number)).toBeCloseTo(seconds, 0);
}

describe('video', () => {
  it('text to video: the result shows a poster and the detail page a playable clip', async () => {
    const { page, unexpectedProblems } = await b.openApp(server);
    await waitForForm(page);
    await page.getByRole('tab', { name: 'Video' }).click();
    await expect.poll(() => field(page, 'Model').inputValue()).toMatch(/t2v/);
    await fillForm(page, { Prompt: 'a kite over the dunes', 'Duration (s)': 1, FPS: 8, Steps: 2 });
    const sent = await submittedBody(page, () => generateButton(page).click());
    expect(sent.path).toBe('/api/generate/text-to-video');
    expect(sent.body).toMatchObject({ prompt: 'a kite over the dunes', duration_seconds: 1, fps: 8 });
    const done = await waitForResults(page, server, sent.run.runId);
    expect(done.parameters).toMatchObject({ numFrames: 8, fps: 8 });

    // The grid shows the video's poster frame.
    const grid = page.getByTestId('variant-grid');
    expect(await waitForImagesLoaded(grid)).toBe(1);
    // The same poster (each view signs its URLs anew, so the signature may differ).
    const poster = new URL((await grid.getByRole('img', { name: 'Result 1' }).getAttribute('src'))!);
    expect(poster.pathname).toBe(new URL(done.assets[0].thumbnailUrl).pathname);
    await screenshot(page, 'video-result');
    await openVideo(page, done, 1);
    await screenshot(page, 'video-detail');
    expect(unexpectedProblems()).toEqual([]);
  });

  it('an end frame picks a model that uses it at once; a model that would ignore it says so, and it is not sent', async () => {
    const { page, unexpectedProblems } = await b.openApp(server);
    await waitForForm(page);
    await page.getByRole('tab', { name: 'Video' }).click();
    await field(page, 'Start frame').setInputFiles({ name: 'start.png', mimeType: 'image/png', buffer: await scenePng(3, 320, 180) });
    await page.getByRole('img', { name: 'Start frame preview' }).waitFor();
    await expect.poll(() => field(page, 'Model').inputValue()).toBe('preview-i2v');
    await field(page, 'End frame').setInputFiles({ name: 'end.png', mimeType: 'image/png', buffer: await scenePng(4, 320, 180) });
    await page.getByRole('img', { name: 'End frame preview' }).waitFor();
    // Before any run: the model that animates start → end is chosen.
    await expect.poll(() => field(page, 'Model').inputValue()).toBe('preview-ti2v');
    expect(await page.getByTestId('end-frame-note').count()).toBe(0);

    // Choosing a start-frame-only model says at once that the end frame is ignored, and the
    // request leaves it out (nothing is charged for it).
    await field(page, 'Model').selectOption('preview-i2v');
    await page.getByTestId('end-frame-note').getByText('preview-i2v ignores the end frame, so it will not be sent. Pick preview-ti2v to use it.').waitFor();
    await fillForm(page, { Prompt: 'from one frame to the other', 'Duration (s)': 0.5, FPS: 8, Steps: 2 });
    await expect.poll(() => generateButton(page).isEnabled()).toBe(true);
    expect(JSON.parse(await field(page, 'Advanced JSON').inputValue())).not.toHaveProperty('end_image');

    await field(page, 'Model').selectOption('preview-ti2v');
    await page.getByTestId('end-frame-note').waitFor({ state: 'detached' });
    await expect.poll(() => generateButton(page).isEnabled()).toBe(true);
    const sent = await submittedBody(page, () => generateButton(page).click());
    expect(sent.body).toMatchObject({ model: 'preview-ti2v', start_image: { upload_id: expect.any(String) }, end_image: { upload_id: expect.any(String) } });
    const done = await waitForResults(page, server, sent.run.runId);
    expect(done.mode).toBe('ti2v');
    expect(done.parameters.endImage.uploadId).toBe(sent.body.end_image.upload_id);
    expect(done.warnings).toEqual([]);
    expect(unexpectedProblems()).toEqual([]);
  });

  it('image to video from an uploaded start frame', async () => {
    const { page, unexpectedProblems } = await b.openApp(server);
    await waitForForm(page);
    await page.getByRole('tab', { name: 'Video' }).click();
    await field(page, 'Start frame').setInputFiles({ name: 'start.png', mimeType: 'image/png', buffer: await scenePng(3, 320, 180) });
    await page.getByRole('img', { name: 'Start frame preview' }).waitFor();
    await fillForm(page, { Prompt: 'the scene drifts to the left', 'Duration (s)': 0.5, FPS: 8, Steps: 2 });
    await expect.poll(() => generateButton(page).isEnabled()).toBe(true);
    const sent = await submittedBody(page, () => generateButton(page).click());
    expect(sent.path).toBe('/api/generate/image-to-video');
    expect(sent.body.start_image.upload_id).toEqual(expect.any(String));
    const done = await waitForResults(page, server, sent.run.runId);
    expect(done.parameters.startImage.uploadId).toBe(sent.body.start_image.upload_id);
    await openVideo(page, done, 0.5);
    expect(unexpectedProblems()).toEqual([]);
  });
});
