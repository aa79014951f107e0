import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startAppServer, useBrowser } from '../helpers/browser.js';
import { scenePng } from '../helpers/synthetic-images.js';
import type { TestServer } from '../helpers/test-server.js';
import { field, fillForm, generateButton, generateViaApi, submitRun, waitForForm, waitForImagesLoaded, waitForResults } from './flows.js';
import { linkedRun, queueItem } from './studio-flows.js';

const b = useBrowser();
let server: TestServer;

beforeAll(async () => {
  server = await startAppServer();
});
afterAll(async () => {
  await server?.close();
});

/** What the Generate screen holds, read from the page. */
async function studio(page: Page) {
  await waitForForm(page);
  return {
    tab: await page.getByRole('tab', { selected: true }).textContent(),
    prompt: await field(page, 'Prompt').inputValue(),
    steps: await field(page, 'Steps').inputValue(),
    denoise: await field(page, 'Denoise').inputValue(),
    reference: await page.getByRole('img', { name: 'Reference preview' }).evaluate((img: any) => img.complete && img.naturalWidth > 0),
  };
}

/** The canvas shows the run's pictures, and its queue entry is the selected one. */
async function showsRun(page: Page, run: any): Promise<void> {
  const grid = page.getByTestId('variant-grid');
  for (const asset of run.assets) await grid.locator(`a[href="/images/${asset.id}"]`).waitFor();
  expect(await waitForImagesLoaded(grid)).toBe(run.assets.length);
  await expect.poll(() => queueItem(page, run.runId).getAttribute('aria-current')).toBe('true');
}

describe('the Generate studio survives navigation', () => {
  it('keeps mode, prompt, settings, the uploaded reference and the results through History, a result, Back and a reload', async () => {
    const { page, unexpectedProblems } = await b.openApp(server);
    await waitForForm(page);
    await page.getByRole('tab', { name: 'Image to image' }).click();
    await field(page, 'Reference image').setInputFiles({ name: 'harbour.png', mimeType: 'image/png', buffer: await scenePng(4, 320, 240) });
    await page.getByRole('img', { name: 'Reference preview' }).waitFor();
    await fillForm(page, { Prompt: 'the harbour at night', Steps: 4 });
    await field(page, 'Denoise').fill('0.4');
    await expect.poll(() => generateButton(page).isEnabled()).toBe(true);
    const sent = await submitRun(page);
    const run = await waitForResults(page, server, sent.runId);
    // The address names the run shown.
    await expect.poll(() => linkedRun(page)).toBe(run.runId);
    const before = await studio(page);
    expect(before).toEqual({ tab: 'Image to image', prompt: 'the harbour at night', steps: '4', denoise: '0.4', reference: true });

    // History, then Back.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
    await page.getByTestId('gallery').waitFor();
    await page.goBack();
    expect(await studio(page)).toEqual(before);
    await showsRun(page, run);

    // A result's page, then Back.
    await page.getByTestId('variant-grid').getByRole('link', { name: 'Details of result 1' }).click();
    await page.getByTestId('asset-detail').waitFor();
    await page.goBack();
    expect(await studio(page)).toEqual(before);
    await showsRun(page, run);

    // The Generate link of the top bar, from History.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
    await page.getByTestId('gallery').waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Generate' }).click();
    expect(await studio(page)).toEqual(before);

    // A reload keeps it too (sessionStorage), with the reference's picture.
    await page.reload();
    expect(await studio(page)).toEqual(before);
    await showsRun(page, run);
    // And the form still sends the uploaded reference.
    const again = await submitRun(page);
    expect(again.parameters.referenceImage.uploadId).toBe(run.parameters.referenceImage.uploadId);
    await waitForResults(page, server, again.runId);
    expect(unexpectedProblems()).toEqual([]);
  });

  it('a /generate?run=ID link shows that run in a new tab; another user is told it is not theirs', async () => {
    const run = await generateViaApi(server, { prompt: 'a shared lighthouse', num_images: 2 });
    const { page, unexpectedProblems } = await b.openApp(server, { path: `/generate?run=${run.runId}` });
    await showsRun(page, run);
    expect(linkedRun(page)).toBe(run.runId);
    await page.getByTestId('job-progress').getByText('Done').waitFor();
    expect(unexpectedProblems()).toEqual([]);

    const bob = await server.addUser('bob');
    const other = await b.openApp(server, { token: bob.token, path: `/generate?run=${run.runId}` });
    await other.page.getByRole('alert').getByText(/not found/).waitFor();
    expect(await other.page.getByTestId('variant-grid').count()).toBe(0);
    expect(other.unexpectedProblems([/404 GET \S+\/api\/status\//, /status of 404/])).toEqual([]);
  });

  it('is kept per user: another user signing in on the same tab starts empty, and the first finds theirs again', async () => {
    const bob = await server.addUser('bob-2');
    const { page, unexpectedProblems } = await b.openApp(server);
    await waitForForm(page);
    await fillForm(page, { Prompt: "the admin's unfinished idea", Steps: 12 });
    await page.goto(`${server.url}/?token=${bob.token}`);
    await waitForForm(page);
    expect(await field(page, 'Prompt').inputValue()).toBe('');
    await fillForm(page, { Prompt: "bob's own idea" });
    await page.goto(`${server.url}/?token=${server.adminToken}`);
    await waitForForm(page);
    await expect.poll(() => field(page, 'Prompt').inputValue()).toBe("the admin's unfinished idea");
    expect(await field(page, 'Steps').inputValue()).toBe('12');
    expect(unexpectedProblems()).toEqual([]);
  });
});
