import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startAppServer, useBrowser } from '../helpers/browser.js';
import type { TestServer } from '../helpers/test-server.js';
import { field, fillForm, generateViaApi, submitRun, waitForForm, waitForImagesLoaded, waitForResults } from './flows.js';

const b = useBrowser();
let server: TestServer;

const PREVIEW = 'Preview renderer — no model weights';

beforeAll(async () => {
  server = await startAppServer();
});
afterAll(async () => {
  await server?.close();
});

/** Rewrites the JSON bodies the page receives from `pattern` (what another server would send). */
async function rewrite(page: Page, pattern: RegExp, change: (body: any) => void): Promise<void> {
  await page.route(pattern, async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    change(body);
    await route.fulfill({ response, json: body });
  });
}

describe('the preview renderer says what it is', () => {
  it('on the model picker, in the run status while it renders and when done, and on every result', async () => {
    const { page, unexpectedProblems } = await b.openApp(server);
    await waitForForm(page);
    const options = await field(page, 'Model').locator('option').allTextContents();
    expect(options.every((text) => text.includes(`(${PREVIEW})`))).toBe(true);
    await page.getByTestId('model-preview-badge').getByText(PREVIEW).waitFor();

    await fillForm(page, { Prompt: 'a lighthouse drawn by the preview renderer', Steps: 80, 'Number of images': 2 });
    const run = await submitRun(page);
    const status = page.getByTestId('job-progress');
    await status.getByText(/Step [1-9]\d* \/ /).waitFor();
    await status.getByTestId('status-preview-badge').getByText(PREVIEW).waitFor();
    const done = await waitForResults(page, server, run.runId);
    await status.getByText('Done').waitFor();
    expect(await status.getByTestId('status-preview-badge').textContent()).toBe(PREVIEW);
    const grid = page.getByTestId('variant-grid');
    expect(await grid.getByTestId('preview-badge').allTextContents()).toEqual(done.assets.map(() => PREVIEW));
    // The queue says so too, in short.
    await page.getByTestId('run-queue').getByText('Preview', { exact: true }).first().waitFor();
    expect(unexpectedProblems()).toEqual([]);
  });

  it('a model on a real backend gets no such badge; a flagged image gets "Flagged"', async () => {
    const run = await generateViaApi(server, { prompt: 'a flagged picture and a clean one', num_images: 2 });
    const { page, unexpectedProblems } = await b.newPage();
    // As a server with weights would answer: the model and the run on another backend, and
    // the safety check's verdict on each asset (metadata.safety, issue #16).
    await rewrite(page, /\/api\/models$/, (body) => {
      for (const model of body.models) Object.assign(model, { preview: false, label: 'SDXL on A1111', backend: { kind: 'a1111', label: 'A1111' } });
    });
    const asOtherServer = (view: any) => {
      view.backend = { kind: 'a1111', label: 'A1111' };
      for (const asset of view.assets) asset.metadata.safety = { model: 'nsfw-check', scores: { nsfw: asset.index === 1 ? 0.97 : 0.01 }, flagged: asset.index === 1 };
    };
    await rewrite(page, new RegExp(`/api/status/${run.runId}$`), asOtherServer);
    await rewrite(page, /\/api\/runs\?/, (body) => body.runs.forEach(asOtherServer));
    await page.goto(`${server.url}/generate?run=${run.runId}&token=${server.adminToken}`);
    const grid = page.getByTestId('variant-grid');
    await waitForImagesLoaded(grid);
    await page.getByTestId('job-progress').getByText('Done').waitFor();
    expect(await page.getByTestId('status-preview-badge').count()).toBe(0);
    expect(await grid.getByTestId('preview-badge').count()).toBe(0);
    expect(await page.getByTestId('model-preview-badge').count()).toBe(0);
    const flagged = grid.getByTestId('flagged-badge');
    expect(await flagged.count()).toBe(1);
    const second = grid.getByTestId('result').nth(1);
    expect(await second.getByTestId('flagged-badge').textContent()).toBe('Flagged');
    expect(unexpectedProblems()).toEqual([]);
  });
});
