import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { apiClient } from '../helpers/api.js';
import { overflowsHorizontally, screenshot, startAppServer, useBrowser } from '../helpers/browser.js';
import type { TestServer } from '../helpers/test-server.js';
import { adminApi } from './flows.js';
import { studioShot } from './studio-shots.js';

const b = useBrowser();
let server: TestServer;
let metrics: any;

// Real numbers to chart: three renders, one cache hit (the cache is on here) and one run
// canceled while it rendered.
beforeAll(async () => {
  server = await startAppServer({ CACHE_DEFAULT_MODE: 'seed-aware' });
  const api = adminApi(server);
  const small = { width: 64, height: 64, steps: 2 };
  await api.generate({ prompt: 'a first tile', seed: 1, ...small });
  await api.generate({ prompt: 'a second tile', seed: 2, ...small });
  const hit = await api.generate({ prompt: 'a first tile', seed: 1, ...small });
  expect(hit.cached).toBe(true);
  const long = await api.submit({ prompt: 'a long render', width: 1024, height: 1024, steps: 150, num_images: 8 });
  await api.waitFor(long.runId, (run) => run.status === 'running' && run.progress.step > 0);
  expect((await api.post(`/api/runs/${long.runId}/cancel`)).status).toBe(200);
  expect((await api.waitFor(long.runId)).status).toBe('canceled');
  metrics = (await api.get('/api/admin/metrics')).body;
}, 60_000);
afterAll(async () => {
  await server?.close();
});

/** A dashboard panel: a section named by its heading (a region). */
const panel = (page: Page, heading: string) => page.getByRole('region', { name: heading, exact: true });

/** The accessible names of the SVG charts in the panel under `heading`. */
async function chartLabels(page: Page, heading: string): Promise<string[]> {
  const charts = panel(page, heading).locator('svg[role="img"]');
  await charts.first().waitFor();
  return charts.evaluateAll((svgs: any[]) => svgs.map((svg): string => svg.getAttribute('aria-label') ?? ''));
}

describe('admin', () => {
  it('shows cache, durations, queue and backends as labelled charts of the real numbers', async () => {
    const { page, unexpectedProblems } = await b.openApp(server, { path: '/admin' });
    for (const name of ['Cache hit ratio', 'Job durations', 'Queue depth', 'Backend health']) await page.getByRole('heading', { name, exact: true }).waitFor();

    const { hits, misses } = metrics.cache;
    expect(hits).toBe(1);
    const percent = Math.round((hits / (hits + misses)) * 1000) / 10;
    const [cache] = await chartLabels(page, 'Cache hit ratio');
    expect(cache).toBe(`Cache hit ratio ${percent}%: 1 hit, ${misses} ${misses === 1 ? 'miss' : 'misses'} of ${hits + misses} lookups`);

    // Three renders, the cached copy and the canceled run all finished.
    expect(metrics.jobDuration.count).toBeGreaterThanOrEqual(4);
    const [durations] = await chartLabels(page, 'Job durations');
    expect(durations).toContain(`Job durations of ${metrics.jobDuration.count} jobs`);
    // The histogram draws one bar per bucket (and one beyond the last).
    const bars = await panel(page, 'Job durations').locator('svg[role="img"] rect').count();
    expect(bars).toBeGreaterThanOrEqual(metrics.jobDuration.buckets.length);

    const [queue] = await chartLabels(page, 'Queue depth');
    expect(queue).toBe('Queue depth 0: 0 waiting, 0 delayed, 0 active');

    const builtin = metrics.backends.find((backend: any) => backend.name === 'builtin');
    expect(builtin).toMatchObject({ canceled: 1 });
    expect(builtin.succeeded).toBeGreaterThanOrEqual(3);
    const backends = await chartLabels(page, 'Backend health');
    const finished = `${builtin.succeeded + builtin.failed + builtin.canceled} jobs finished — ${builtin.succeeded} succeeded, 0 failed, 1 canceled`;
    expect(backends.some((label) => /is healthy\b/.test(label) && label.endsWith(finished)), JSON.stringify(backends)).toBe(true);
    await page.getByTestId('backend-tile').getByText('Healthy').first().waitFor();
    await screenshot(page, 'admin', { fullPage: true });
    expect(unexpectedProblems()).toEqual([]);
  });

  it('is for admins only', async () => {
    const bob = await server.addUser('bob');
    const { page, unexpectedProblems } = await b.openApp(server, { token: bob.token, path: '/admin' });
    await page.getByRole('alert').getByText(/admins only/).waitFor();
    await expect(page.locator('svg[role="img"]').count()).resolves.toBe(0);
    expect(unexpectedProblems([/403/])).toEqual([]);
  });

  it('labels the counters that count since the server started', async () => {
    const { page, unexpectedProblems } = await b.openApp(server, { path: '/admin' });
    await panel(page, 'Cache hit ratio').getByText('Since start', { exact: true }).waitFor();
    await panel(page, 'Job durations').getByText(/finished jobs? since start/).waitFor();
    await panel(page, 'Backend health').getByText('jobs finished since start', { exact: false }).waitFor();
    expect(unexpectedProblems()).toEqual([]);
  });

  it("shows every user's jobs with status, user, model, duration and error, and cancels a running one", async () => {
    const carol = await server.addUser('carol');
    const api = apiClient(server, carol.token);
    const long = await api.submit({ prompt: 'a render carol waits for', width: 1024, height: 1024, steps: 150, num_images: 8 });
    await api.waitFor(long.runId, (run) => run.status === 'running');

    const { page, unexpectedProblems } = await b.openApp(server, { path: '/admin' });
    const jobs = panel(page, 'Jobs');
    const row = (id: string) => jobs.locator(`tr[data-job-id="${id}"]`);
    await row(long.runId).waitFor();
    const cells = (id: string) => row(id).locator('td').allInnerTexts();
    const running = await cells(long.runId);
    expect(running[0]).toMatch(/^Running \d+%/);
    expect(running.slice(1, 3)).toEqual(['carol', 'preview']);
    expect(running[3]).toBe('a render carol waits for');
    expect(running[5]).toMatch(/^\d+(\.\d+)? (ms|s)$|min/);
    // The admin's own earlier runs are there too, finished, with their durations.
    const finished = (await adminApi(server).get('/api/admin/jobs?status=succeeded&limit=1')).body.jobs[0];
    await row(finished.id).waitFor();
    expect((await cells(finished.id)).slice(0, 2)).toEqual([expect.stringMatching(/^Succeeded/), 'admin']);
    expect((await cells(finished.id))[5]).not.toBe('—');

    await row(long.runId).getByRole('button', { name: 'Cancel job of carol: a render carol waits for' }).click();
    await expect.poll(async () => (await cells(long.runId))[0], { timeout: 10_000 }).toBe('Canceled');
    expect((await api.waitFor(long.runId)).status).toBe('canceled');
    await expect(row(long.runId).getByRole('button').count()).resolves.toBe(0);
    // The row now says why the job stopped, and how long it ran.
    await expect.poll(async () => (await cells(long.runId))[6]).toBe('job_canceled The job was canceled');
    expect((await cells(long.runId))[5]).not.toBe('—');

    await page.getByRole('combobox', { name: 'Status' }).selectOption('canceled');
    await expect.poll(async () => (await jobs.getByTestId('job-row').evaluateAll((rows: any[]) => rows.map((r) => r.dataset.jobId as string))).includes(long.runId)).toBe(true);
    const statuses = await jobs.getByTestId('job-row').evaluateAll((rows: any[]) => rows.map((r) => r.querySelector('td').textContent as string));
    expect(new Set(statuses)).toEqual(new Set(['Canceled']));
    expect(unexpectedProblems()).toEqual([]);
  });

  it('creates a user whose token works, rotates its tokens, and removes it', async () => {
    const { page, unexpectedProblems } = await b.openApp(server, { path: '/admin' });
    const users = panel(page, 'Users and tokens');
    await users.getByLabel('New user').fill('dora');
    await users.getByRole('button', { name: 'Create user' }).click();
    const token = users.getByTestId('issued-token');
    await token.waitFor();
    const first = await token.innerText();
    expect(first).toMatch(/^atl_/);
    expect((await apiClient(server, first).get('/api/me')).body).toMatchObject({ name: 'dora', role: 'user' });
    const row = users.getByTestId('user-row').filter({ has: page.getByRole('rowheader', { name: 'dora' }) });
    await row.waitFor();

    await row.getByRole('button', { name: 'Rotate tokens of dora' }).click();
    await expect.poll(() => token.innerText()).not.toBe(first);
    const rotated = await token.innerText();
    await users.getByText('1 older token revoked', { exact: false }).waitFor();
    expect((await apiClient(server, first).get('/api/me')).status).toBe(401);
    expect((await apiClient(server, rotated).get('/api/me')).status).toBe(200);

    await row.getByRole('button', { name: 'Remove dora' }).click();
    await row.getByRole('button', { name: 'Confirm removing dora' }).click();
    await expect.poll(() => row.count()).toBe(0);
    expect((await apiClient(server, rotated).get('/api/me')).status).toBe(401);
    expect(unexpectedProblems()).toEqual([]);
  });

  it('fits a phone (390 × 844) without sideways scrolling', async () => {
    const phone = await b.openApp(server, { path: '/admin', viewport: { width: 390, height: 844 } });
    await panel(phone.page, 'Jobs').getByTestId('job-row').first().waitFor();
    await panel(phone.page, 'Users and tokens').getByTestId('user-row').first().waitFor();
    await panel(phone.page, 'Backend health').getByTestId('backend-tile').first().waitFor();
    expect(await overflowsHorizontally(phone.page)).toMatchObject({ overflows: false });
    await studioShot(phone.page, 'admin-390x844');
    await panel(phone.page, 'Jobs').scrollIntoViewIfNeeded();
    await studioShot(phone.page, 'admin-390x844-jobs');
    await panel(phone.page, 'Users and tokens').scrollIntoViewIfNeeded();
    await studioShot(phone.page, 'admin-390x844-users');
    const desktop = await b.openApp(server, { path: '/admin', viewport: { width: 1440, height: 900 } });
    await panel(desktop.page, 'Jobs').getByTestId('job-row').first().waitFor();
    await studioShot(desktop.page, 'admin-1440x900');
    await panel(desktop.page, 'Users and tokens').scrollIntoViewIfNeeded();
    await studioShot(desktop.page, 'admin-1440x900-users');
    await desktop.page.emulateMedia({ colorScheme: 'dark' });
    await studioShot(desktop.page, 'admin-1440x900-users-dark');
    expect(phone.unexpectedProblems()).toEqual([]);
    expect(desktop.unexpectedProblems()).toEqual([]);
  });
});
