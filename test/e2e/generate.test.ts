import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { screenshot, startAppServer, useBrowser } from '../helpers/browser.js';
import type { TestServer } from '../helpers/test-server.js';
import { adminApi, field, fillForm, submitRun, waitForForm, waitForImagesLoaded, waitForResults } from './flows.js';

const b = useBrowser();
let server: TestServer;

// The prompt cache is on here (test servers turn it off by default) for the cache-badge test;
// the other tests use prompts of their own, so they never hit it.
beforeAll(async () => {
  server = await startAppServer({ CACHE_DEFAULT_MODE: 'seed-aware' });
});
afterAll(async () => {
  await server?.close();
});

/**
 * Records, inside the page, every value the run's progress bar and step text take, so the
 * test sees the SSE-driven updates even when they come faster than it could poll.
 */
async function recordProgress(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w: any = globalThis; // in the page (the project's types have no DOM library)
    const seen = { values: [] as number[], steps: [] as string[], previews: [] as string[] };
    w.__progress = seen;
    const record = () => {
      const box = w.document.querySelector('[data-testid="job-progress"]');
      if (!box) return;
      const value = box.querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow');
      if (value != null && seen.values.at(-1) !== Number(value)) seen.values.push(Number(value));
      const step = /Step \d+ \/ \d+/.exec(box.textContent ?? '')?.[0];
      if (step && seen.steps.at(-1) !== step) seen.steps.push(step);
      const preview = box.querySelector('img[alt="Live preview"]')?.getAttribute('src');
      if (preview && !seen.previews.includes(preview)) seen.previews.push(preview);
    };
    new w.MutationObserver(record).observe(w.document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
}

const recorded = (page: Page) => page.evaluate((): { values: number[]; steps: string[]; previews: string[] } => (globalThis as any).__progress);

describe('generate', () => {
  it('generates and watches the progress over SSE to a grid of results, then opens one', async () => {
    const { page, unexpectedProblems } = await b.openApp(server);
    await waitForForm(page);
    // 4 images × 150 steps at 1024² take the preview renderer a couple of seconds: long
    // enough that the progress is seen moving.
    await fillForm(page, { Prompt: 'a lighthouse at dusk, long exposure', Steps: 150, 'Number of images': 4 });
    await expect.poll(() => page.getByTestId('prompt-stats').textContent()).toMatch(/35 characters · 6 words/);
    await recordProgress(page);
    const run = await submitRun(page);
    expect(run.parameters).toMatchObject({ steps: 150, numImages: 4, prompt: 'a lighthouse at dusk, long exposure' });

    const progress = page.getByTestId('job-progress');
    await progress.getByText(/Step [1-9]\d* \/ 600/).waitFor();
    // For the picture only (the assertions on previews come below): catch a preview frame
    // on screen if the run is still going.
    await progress.getByRole('img', { name: 'Live preview' }).waitFor({ timeout: 3_000 }).catch(() => undefined);
    await screenshot(page, 'live-progress');
    const done = await waitForResults(page, server, run.runId);

    const seen = await recorded(page);
    // The bar moved through several values, never backwards, and the step text counted up.
    expect(new Set(seen.values).size).toBeGreaterThanOrEqual(3);
    expect(seen.values).toEqual([...seen.values].sort((x, y) => x - y));
    expect(seen.values.every((v) => v >= 0 && v <= 100)).toBe(true);
    expect(seen.steps.length).toBeGreaterThanOrEqual(2);
    // The renderer sends preview frames while it works; the page showed at least one.
    expect(seen.previews.length).toBeGreaterThanOrEqual(1);
    await expect.poll(() => progress.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');

    const grid = page.getByTestId('variant-grid');
    expect(await waitForImagesLoaded(grid)).toBe(4);
    for (let i = 1; i <= 4; i++) await grid.getByRole('img', { name: `Result ${i}`, exact: true }).waitFor();
    // Results in order: "Result 1" is the run's first asset.
    const first = done.assets.find((a: any) => a.index === 0);
    expect(await grid.getByRole('link').first().getAttribute('href')).toBe(`/images/${first.id}`);
    // Each variant shows its scores (a batch has a diversity score).
    await expect.poll(() => grid.getByTestId('scores').count()).toBe(4);
    expect(await grid.getByTestId('scores').first().textContent()).toMatch(/Diversity \d/);
    await screenshot(page, 'generate-result');

    await grid.getByRole('link').first().click();
    await page.getByTestId('asset-detail').waitFor();
    expect(new URL(page.url()).pathname).toBe(`/images/${first.id}`);
    await expect.poll(() => page.getByTestId('parameters').textContent()).toContain(String(first.seed ?? done.seed));
    expect(unexpectedProblems()).toEqual([]);
  });

  it('a repeated fixed-seed generation is served from the cache and says so', async () => {
    const { page, unexpectedProblems } = await b.openApp(server);
    await waitForForm(page);
    await fillForm(page, { Prompt: 'a red fox in fresh snow', Steps: 4, Seed: 4242 });
    const lock = page.getByRole('button', { name: 'Lock seed' });
    if ((await lock.getAttribute('aria-pressed')) !== 'true') await lock.click();
    await expect.poll(() => lock.getAttribute('aria-pressed')).toBe('true');

    const first = await submitRun(page);
    expect(first.seed).toBe(4242);
    await waitForResults(page, server, first.runId);
    await expect(page.getByTestId('cache-badge').count()).resolves.toBe(0);

    const second = await submitRun(page);
    expect(second.seed).toBe(4242);
    const done = await waitForResults(page, server, second.runId);
    expect(done).toMatchObject({ cached: true, cachedFrom: first.runId });
    await page.getByTestId('cache-badge').getByText('Cached').waitFor();
    expect(unexpectedProblems()).toEqual([]);
  });

  it('cancels a running job', async () => {
    const { page, unexpectedProblems } = await b.openApp(server);
    await waitForForm(page);
    // 8 × 150 steps at 1024²: several seconds of work, stopped after the first steps.
    await fillForm(page, { Prompt: 'a slow cathedral of glass', Steps: 150, 'Number of images': 8 });
    const run = await submitRun(page);
    const progress = page.getByTestId('job-progress');
    await progress.getByText(/Step [1-9]\d* \/ 1200/).waitFor();
    await progress.getByRole('button', { name: 'Cancel' }).click();

    const ended = await adminApi(server).waitFor(run.runId, undefined, 15_000);
    expect(ended.status).toBe('canceled');
    expect(ended.assets).toEqual([]);
    await progress.getByText('Canceled').waitFor();
    await expect(progress.getByRole('button', { name: 'Cancel' }).count()).resolves.toBe(0);
    await expect(page.getByTestId('variant-grid').count()).resolves.toBe(0);
    expect(unexpectedProblems()).toEqual([]);
  });

  it('Ctrl+Enter in the prompt submits the form', async () => {
    const { page, unexpectedProblems } = await b.openApp(server);
    await waitForForm(page);
    await fillForm(page, { Prompt: 'a paper boat on a pond', Steps: 3 });
    const run = await submitRun(page, () => field(page, 'Prompt').press('Control+Enter'));
    expect(run.parameters).toMatchObject({ prompt: 'a paper boat on a pond', steps: 3 });
    await waitForResults(page, server, run.runId);
    expect(unexpectedProblems()).toEqual([]);
  });
});
