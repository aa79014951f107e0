import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { screenshot, startAppServer, useBrowser } from '../helpers/browser.js';
import type { TestServer } from '../helpers/test-server.js';
import { adminApi } from './flows.js';

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
});
