import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page, Route } from 'playwright-core';
import { screenshot, startAppServer, useBrowser } from '../helpers/browser.js';
import { scenePng } from '../helpers/synthetic-images.js';
import type { TestServer } from '../helpers/test-server.js';
import { adminApi, field, fillForm, generateButton, submittedBody, waitForForm, waitForResults } from './flows.js';

const b = useBrowser();
let server: TestServer;

beforeAll(async () => {
  server = await startAppServer();
});
afterAll(async () => {
  await server?.close();
});

/**
 * Holds the browser's presigned PUT uploads until `release()`, so the upload progress can be
 * seen on screen however fast the server takes the bytes.
 */
async function holdUploads(page: Page): Promise<{ held: () => number; release: () => Promise<void> }> {
  const held: Route[] = [];
  let open = false;
  await page.route(/\/api\/uploads\//, async (route) => {
    if (open || route.request().method() !== 'PUT') await route.continue();
    else held.push(route);
  });
  return {
    held: () => held.length,
    release: async () => {
      open = true;
      await Promise.all(held.splice(0).map((route) => route.continue()));
    },
  };
}

const png = (name: string, buffer: Buffer) => ({ name, mimeType: 'image/png', buffer });

/**
 * Opens the first result and reads the SSIM its detail page shows. Scores are stored just
 * after the run reports success, so wait for the API to have them first.
 */
async function ssimOnDetail(page: Page, run: any): Promise<number> {
  const asset = run.assets.find((a: any) => a.index === 0);
  await expect.poll(async () => (await adminApi(server).get(`/api/images/${asset.id}`)).body.evaluations?.ssim).toEqual(expect.any(Number));
  await page.getByTestId('variant-grid').locator(`a[href="/images/${asset.id}"]`).click();
  const parameters = page.getByTestId('parameters');
  await parameters.getByText('SSIM', { exact: true }).waitFor();
  const text = (await parameters.textContent()) ?? '';
  return Number(/SSIM\s*(\d(?:\.\d+)?)/.exec(text)?.[1]);
}

describe('image to image', () => {
  it('uploads a reference with a preview and progress, then renders from it', async () => {
    const { page, unexpectedProblems } = await b.openApp(server);
    await waitForForm(page);
    await page.getByRole('tab', { name: 'Image to image' }).click();
    const uploads = await holdUploads(page);
    await field(page, 'Reference image').setInputFiles(png('harbour.png', await scenePng(5, 320, 240)));

    // The preview shows at once, from the file itself; the upload is in flight.
    const preview = page.getByRole('img', { name: 'Reference preview' });
    await preview.waitFor();
    await expect.poll(() => preview.evaluate((img: any) => `${img.naturalWidth}×${img.naturalHeight}`)).toBe('320×240');
    await page.getByRole('progressbar', { name: /Uploading harbour\.png/ }).waitFor();
    await expect.poll(() => uploads.held()).toBe(1);
    await fillForm(page, { Prompt: 'the same harbour in autumn', Steps: 8 });
    expect(await generateButton(page).isDisabled()).toBe(true);
    await screenshot(page, 'image-to-image-uploading');

    await uploads.release();
    await page.getByRole('progressbar', { name: /Uploading/ }).waitFor({ state: 'detached' });
    await field(page, 'Denoise').fill('0.4');
    // Auto: the output takes the reference's shape.
    await field(page, 'Aspect ratio').selectOption({ label: 'Auto' });
    await expect.poll(() => generateButton(page).isEnabled()).toBe(true);
    const sent = await submittedBody(page, () => generateButton(page).click());
    expect(sent.path).toBe('/api/generate/image-to-image');
    expect(sent.body).toMatchObject({ prompt: 'the same harbour in autumn', denoise_strength: 0.4, steps: 8 });
    expect(sent.body.reference_image.upload_id).toEqual(expect.any(String));

    const done = await waitForResults(page, server, sent.run.runId);
    expect(sent.body.aspect_ratio).toBeUndefined();
    expect(done.parameters).toMatchObject({ denoiseStrength: 0.4, referenceImage: { uploadId: sent.body.reference_image.upload_id } });
    expect(done.parameters.width / done.parameters.height).toBeCloseTo(320 / 240, 1);
    await screenshot(page, 'image-to-image-result');
    // Image to image is scored against its reference: in the grid and on the detail page.
    await expect.poll(() => page.getByTestId('scores').first().textContent()).toMatch(/SSIM \d\.\d{3}/);
    expect(await ssimOnDetail(page, done)).toBeGreaterThan(0);
    expect(unexpectedProblems()).toEqual([]);
  });

  it('exact copy with an empty prompt reproduces the reference (SSIM ≥ 0.95 shown)', async () => {
    const { page, unexpectedProblems } = await b.openApp(server);
    await waitForForm(page);
    await page.getByRole('tab', { name: 'Image to image' }).click();
    await field(page, 'Reference image').setInputFiles(png('copy.png', await scenePng(9, 256, 256)));
    await page.getByRole('img', { name: 'Reference preview' }).waitFor();
    await page.getByLabel('Exact copy').check();
    await field(page, 'Aspect ratio').selectOption({ label: 'Auto' });
    await expect.poll(() => generateButton(page).isEnabled()).toBe(true);
    const sent = await submittedBody(page, () => generateButton(page).click());
    expect(sent.body).toMatchObject({ prompt: '', exact_copy_mode: true });
    const done = await waitForResults(page, server, sent.run.runId);
    expect(done.parameters).toMatchObject({ exactCopy: true });
    expect(done.parameters.width).toBe(done.parameters.height);
    expect(await ssimOnDetail(page, done)).toBeGreaterThanOrEqual(0.95);
    expect(unexpectedProblems()).toEqual([]);
  });

  it('several guidance images upload at once, each with its own progress, and are sent with the job', async () => {
    const { page, unexpectedProblems } = await b.openApp(server);
    await waitForForm(page);
    const uploads = await holdUploads(page);
    await field(page, 'Guidance images').setInputFiles([png('one.png', await scenePng(1, 128, 128)), png('two.png', await scenePng(2, 128, 128))]);
    await page.getByRole('progressbar', { name: 'Uploading one.png' }).waitFor();
    await page.getByRole('progressbar', { name: 'Uploading two.png' }).waitFor();
    await expect.poll(() => uploads.held()).toBe(2);
    await uploads.release();
    await page.getByRole('progressbar', { name: /Uploading/ }).first().waitFor({ state: 'detached' });
    for (const name of ['Guidance image 1', 'Guidance image 2']) await page.getByRole('img', { name }).waitFor();

    await fillForm(page, { Prompt: 'a garden in the style of the guides', Steps: 3 });
    await expect.poll(() => generateButton(page).isEnabled()).toBe(true);
    const sent = await submittedBody(page, () => generateButton(page).click());
    expect(sent.body.guidance_images).toHaveLength(2);
    const done = await waitForResults(page, server, sent.run.runId);
    expect(done.parameters.guidanceImages).toHaveLength(2);
    expect(unexpectedProblems()).toEqual([]);
  });
});
