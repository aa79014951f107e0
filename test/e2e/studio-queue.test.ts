import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../helpers/api.js';
import { startAppServer, useBrowser } from '../helpers/browser.js';
import type { TestServer } from '../helpers/test-server.js';
import { adminApi, fillForm, generateButton, submitRun, waitForForm, waitForImagesLoaded, waitForResults } from './flows.js';
import { queueItem, queueStatus, runReaches } from './studio-flows.js';
import { studioShot } from './studio-shots.js';

const b = useBrowser();
let server: TestServer;

beforeAll(async () => {
  server = await startAppServer();
});
afterAll(async () => {
  await server?.close();
});

describe('the run queue', () => {
  it('Generate stays enabled while a run renders: each press queues a run, listed with its status; Cancel and Escape stop them', async () => {
    const { page, unexpectedProblems } = await b.openApp(server, { viewport: { width: 1440, height: 900 } });
    await waitForForm(page);
    // 8 × 150 steps at 1024²: seconds of work, so the next presses queue behind it.
    await fillForm(page, { Prompt: 'a long first run', Steps: 150, 'Number of images': 8 });
    const first = await submitRun(page);
    await expect.poll(() => generateButton(page).isEnabled()).toBe(true);
    await fillForm(page, { Prompt: 'a second run, queued', Steps: 2, 'Number of images': 1 });
    const second = await submitRun(page);
    await fillForm(page, { Prompt: 'a third run, queued' });
    const third = await submitRun(page);

    await expect.poll(() => queueStatus(page, first.runId)).toBe('running');
    expect(await queueStatus(page, second.runId)).toBe('queued');
    expect(await queueStatus(page, third.runId)).toBe('queued');
    expect(await queueItem(page, third.runId).textContent()).toContain('a third run, queued');
    await page.getByTestId('queue-count').getByText('3 in progress').waitFor();
    // Newest first.
    const order = await page.getByTestId('run-item').evaluateAll((items: any[]) => items.map((item) => item.getAttribute('data-run-id') as string));
    expect(order.slice(0, 3)).toEqual([third.runId, second.runId, first.runId]);
    await studioShot(page, 'run-queue-1440');

    // Escape on a focused run cancels it.
    await queueItem(page, second.runId).getByRole('button').first().focus();
    await page.keyboard.press('Escape');
    await runReaches(server, second.runId, ['canceled']);
    await expect.poll(() => queueStatus(page, second.runId)).toBe('canceled');
    // Its Cancel button cancels another.
    await queueItem(page, third.runId).getByRole('button', { name: 'Cancel run: a third run, queued' }).click();
    await runReaches(server, third.runId, ['canceled']);
    await expect.poll(() => queueStatus(page, third.runId)).toBe('canceled');
    await queueItem(page, first.runId).getByRole('button', { name: /^Cancel run/ }).click();
    await runReaches(server, first.runId, ['canceled']);
    await expect.poll(() => queueStatus(page, first.runId)).toBe('canceled');
    await page.getByTestId('queue-count').getByText('3 in progress').waitFor({ state: 'detached' });
    expect(unexpectedProblems()).toEqual([]);
  });

  it('lists the runs made elsewhere (GET /api/runs) with their status; choosing one shows it', async () => {
    const user = await server.addUser('lister');
    const done = await apiClient(server, user.token).generate({ prompt: 'made with curl', width: 256, height: 256, steps: 2 });
    const { page, unexpectedProblems } = await b.openApp(server, { token: user.token });
    await expect.poll(() => queueStatus(page, done.runId)).toBe('succeeded');
    expect(await queueItem(page, done.runId).textContent()).toContain('made with curl');
    // Not selected until chosen: the canvas is free for new work.
    expect(await page.getByTestId('variant-grid').count()).toBe(0);
    await queueItem(page, done.runId).getByRole('button').first().click();
    await waitForImagesLoaded(page.getByTestId('variant-grid'));
    expect(await page.getByTestId('variant-grid').locator(`a[href="/images/${done.assets[0].id}"]`).count()).toBe(1);
    expect(unexpectedProblems()).toEqual([]);
  });

  it('a network failure says so with Retry, the earlier results stay, and Retry makes the run once', async () => {
    const { page, unexpectedProblems } = await b.openApp(server, { viewport: { width: 1440, height: 900 } });
    await waitForForm(page);
    await fillForm(page, { Prompt: 'results that must stay', Steps: 2 });
    const kept = await waitForResults(page, server, (await submitRun(page)).runId);
    const before = (await adminApi(server).get('/api/runs?limit=100')).body.runs.length;

    // The server is out of reach for the next submission.
    let attempts = 0;
    await page.route(/\/api\/generate\//, async (route) => {
      attempts += 1;
      await route.abort('internetdisconnected');
    });
    await fillForm(page, { Prompt: 'sent while offline' });
    await generateButton(page).click();
    const notice = page.getByTestId('notice');
    await notice.getByText(/Could not reach the server/).waitFor();
    expect(await notice.getAttribute('role')).toBe('alert');
    // The earlier results are still on the canvas.
    expect(await page.getByTestId('variant-grid').locator(`a[href="/images/${kept.assets[0].id}"]`).count()).toBe(1);
    await page.getByTestId('run-queue').getByText('Not sent: no connection').waitFor();
    await studioShot(page, 'network-error-1440');

    await page.unroute(/\/api\/generate\//);
    const retried = await submitRun(page, () => notice.getByRole('button', { name: 'Retry' }).click());
    expect(retried.parameters.prompt).toBe('sent while offline');
    await waitForResults(page, server, retried.runId);
    await notice.waitFor({ state: 'detached' });
    expect(attempts).toBe(1);
    expect((await adminApi(server).get('/api/runs?limit=100')).body.runs.length).toBe(before + 1);
    expect(unexpectedProblems([/ERR_INTERNET_DISCONNECTED/])).toEqual([]);
  });
});
