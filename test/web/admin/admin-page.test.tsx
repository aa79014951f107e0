// @vitest-environment jsdom
import { act, cleanup, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SessionProvider } from '../../../web/src/auth/session';
import { AdminPage } from '../../../web/src/pages/admin-page';
import { fakeApi, signIn } from '../history/fake-api';

function metrics(queue: Record<string, number>) {
  return {
    cache: { hits: 3, misses: 1, hitRatio: 0.75 },
    jobDuration: {
      buckets: [
        { le: 1, count: 2 },
        { le: 5, count: 6 },
        { le: 10, count: 6 },
      ],
      count: 7,
    },
    queue,
    backends: [
      { name: 'builtin', kind: 'builtin', label: 'Preview renderer', healthy: true, succeeded: 6, failed: 1, canceled: 0 },
      {
        name: 'a1111',
        kind: 'a1111',
        label: 'A1111 pool',
        healthy: true,
        state: 'degraded',
        instances: { up: 1, total: 2 },
        inFlight: 3,
        lastError: { message: 'connect ECONNREFUSED', at: '2025-01-01T00:00:00.000Z', instance: 'gpu-2' },
        succeeded: 0,
        failed: 2,
        canceled: 1,
      },
    ],
    moderationRefusals: 0,
  };
}

function server(role: 'admin' | 'user') {
  let depth = 0;
  return fakeApi(({ url }) => {
    if (url.pathname === '/api/me') return { body: { id: 'u1', name: 'root', role } };
    if (url.pathname === '/api/admin/metrics') {
      depth += 2;
      return role === 'admin' ? { body: metrics({ waiting: depth, delayed: 1, active: 1 }) } : { status: 403, body: { code: 'forbidden', message: 'Admins only' } };
    }
    return undefined;
  });
}

const renderPage = () =>
  render(
    <SessionProvider>
      <AdminPage />
    </SessionProvider>,
  );

beforeEach(() => signIn());
afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
  localStorage.clear();
});

describe('Admin page', () => {
  it('draws the four charts as labelled SVG images from the metrics', async () => {
    server('admin');
    renderPage();
    const section = (name: string) => screen.getByRole('heading', { name }).closest('section')!;
    await screen.findByRole('heading', { name: 'Cache hit ratio' });

    const donut = within(section('Cache hit ratio')).getByRole('img');
    expect(donut.tagName.toLowerCase()).toBe('svg');
    expect(donut.getAttribute('aria-label')).toBe('Cache hit ratio 75%: 3 hits, 1 miss of 4 lookups');
    expect(donut.textContent).toContain('75%');

    const histogram = within(section('Job durations')).getByRole('img');
    // Cumulative 2, 6, 6 of 7 → per bucket 2, 4, 0 and 1 over 10 s.
    expect(histogram.querySelectorAll('rect')).toHaveLength(4);
    expect(histogram.getAttribute('aria-label')).toContain('2 0s–1s, 4 1s–5s, 1 over 10s');

    const queueCharts = within(section('Queue depth')).getAllByRole('img');
    expect(queueCharts[0]!.getAttribute('aria-label')).toBe('Queue depth 4: 2 waiting, 1 delayed, 1 active');
    expect(queueCharts[1]!.getAttribute('aria-label')).toContain('now 4');

    const tiles = within(section('Backend health')).getAllByTestId('backend-tile');
    expect(tiles.map((t) => within(t).getByRole('img').getAttribute('aria-label'))).toEqual([
      'Preview renderer is healthy: 7 jobs finished — 6 succeeded, 1 failed, 0 canceled',
      'A1111 pool is degraded (1 of 2 instances up): 3 jobs finished — 0 succeeded, 2 failed, 1 canceled',
    ]);
    expect(within(tiles[0]!).getByText('Healthy')).toBeTruthy();
    expect(within(tiles[1]!).getByText('Degraded')).toBeTruthy();
    expect(tiles[1]!.textContent).toContain('1 of 2 instances up');
    expect(tiles[1]!.textContent).toContain('3 in flight');
    expect(tiles[1]!.textContent).toContain('Last error (gpu-2): connect ECONNREFUSED');
    expect(document.querySelectorAll('canvas')).toHaveLength(0);
  });

  it('refreshes every 5 seconds and adds a queue-depth sample each time', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const { calls } = server('admin');
    renderPage();
    await screen.findByRole('heading', { name: 'Queue depth' });
    const reads = () => calls.filter((c) => c.url.pathname === '/api/admin/metrics').length;
    expect(reads()).toBe(1);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(5_000);
    });
    await waitFor(() => expect(reads()).toBe(2));
    await act(async () => {
      await vi.advanceTimersByTimeAsync(5_000);
    });
    await waitFor(() => expect(reads()).toBe(3));
    const sparkline = screen.getAllByRole('img').find((svg) => svg.getAttribute('aria-label')?.startsWith('Queue depth over'))!;
    await waitFor(() => expect(sparkline.getAttribute('aria-label')).toBe('Queue depth over the last 3 samples (every 5 s): now 8, peak 8'));
  });

  it('tells a non-admin the dashboard is for admins only, without asking for metrics', async () => {
    const { calls } = server('user');
    renderPage();
    expect((await screen.findByRole('alert')).textContent).toContain('admins only');
    expect(calls.some((c) => c.url.pathname === '/api/admin/metrics')).toBe(false);
  });
});
