// @vitest-environment jsdom
import { act, cleanup, configure, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SessionProvider } from '../../../web/src/auth/session';
import { AdminPage } from '../../../web/src/pages/admin-page';
import { fakeApi, signIn } from '../history/fake-api';

// The waits are on conditions; their ceiling only matters when one never holds. The first
// render of a file (React, jsdom, the page's modules) can take over the default 1 s when the
// suite shares the machine.
configure({ asyncUtilTimeout: 5_000 });


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

const JOBS = [
  { id: 'j3', status: 'running', userId: 'u2', userName: 'ivy', mode: 't2i', model: 'sdxl', backend: 'a1111', prompt: 'a running fox', progress: 0.42, attempts: 1, cached: false, createdAt: '2025-01-01T00:03:00.000Z', startedAt: '2025-01-01T00:03:01.000Z', finishedAt: null, durationMs: 65_000, error: null },
  { id: 'j2', status: 'failed', userId: 'u9', userName: null, mode: 't2i', model: 'preview', backend: 'builtin', prompt: 'a broken thing', progress: 0, attempts: 3, cached: false, createdAt: '2025-01-01T00:02:00.000Z', startedAt: '2025-01-01T00:02:01.000Z', finishedAt: '2025-01-01T00:02:02.500Z', durationMs: 1500, error: { code: 'backend_error', message: 'the GPU fell over' } },
  { id: 'j1', status: 'succeeded', userId: 'u1', userName: 'root', mode: 't2i', model: 'preview', backend: 'builtin', prompt: 'a calm lake', progress: 1, attempts: 1, cached: true, createdAt: '2025-01-01T00:01:00.000Z', startedAt: '2025-01-01T00:01:00.000Z', finishedAt: '2025-01-01T00:01:00.850Z', durationMs: 850, error: null },
];

function server(role: 'admin' | 'user') {
  let depth = 0;
  const jobs = JOBS.map((job) => ({ ...job }));
  const users = [
    { id: 'u1', name: 'root', role: 'admin', createdAt: '2025-01-01T00:00:00.000Z', tokens: 1 },
    { id: 'u2', name: 'ivy', role: 'user', createdAt: '2025-01-02T00:00:00.000Z', tokens: 2 },
  ];
  return fakeApi(({ method, url }) => {
    if (url.pathname === '/api/me') return { body: { id: 'u1', name: 'root', role } };
    if (url.pathname === '/api/admin/jobs') {
      const status = url.searchParams.get('status');
      const matching = jobs.filter((job) => !status || job.status === status);
      // Pages of two: the cursor is the index where the next page starts.
      const from = Number(url.searchParams.get('cursor') ?? 0);
      return { body: { jobs: matching.slice(from, from + 2), nextCursor: from + 2 < matching.length ? String(from + 2) : null } };
    }
    if (method === 'POST' && url.pathname === '/api/runs/j3/cancel') {
      jobs[0] = { ...jobs[0]!, status: 'canceled', finishedAt: '2025-01-01T00:04:06.000Z' };
      return { body: {} };
    }
    if (url.pathname === '/api/admin/users' && method === 'GET') return { body: { users } };
    if (url.pathname === '/api/admin/users' && method === 'POST') {
      users.push({ id: 'u3', name: 'kai', role: 'user', createdAt: '2025-01-03T00:00:00.000Z', tokens: 1 });
      return { status: 201, body: { id: 'u3', name: 'kai', role: 'user', token: 'atl_first-token-of-kai' } };
    }
    if (method === 'POST' && url.pathname === '/api/admin/users/u2/tokens') {
      const rotate = url.searchParams.get('revoke_others') === 'true';
      const revoked = rotate ? users[1]!.tokens : 0;
      users[1] = { ...users[1]!, tokens: rotate ? 1 : users[1]!.tokens + 1 };
      return { status: 201, body: { id: 'u2', name: 'ivy', role: 'user', token: rotate ? 'atl_rotated' : 'atl_added', revokedTokens: revoked } };
    }
    if (method === 'DELETE' && url.pathname === '/api/admin/users/u1') return { status: 409, body: { code: 'last_admin', message: 'The last admin cannot be removed' } };
    if (method === 'DELETE' && url.pathname === '/api/admin/users/u2') {
      users.splice(1, 1);
      return { status: 204 };
    }
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

  it('labels the counters that count since the server started', async () => {
    server('admin');
    renderPage();
    const note = async (heading: string) => (await screen.findByRole('heading', { name: heading })).closest('section')!.querySelector('.panel-note')!.textContent;
    expect(await note('Cache hit ratio')).toBe('Since start');
    expect(await note('Job durations')).toBe('7 finished jobs since start, submit to finish');
    expect(await note('Backend health')).toBe('Health now; jobs finished since start');
    expect(await note('Queue depth')).toBe('Now');
  });

  it("lists every user's jobs with status, user, model, duration and error, filters by status, and cancels a running one", async () => {
    const { calls } = server('admin');
    renderPage();
    const rows = async () => within(await screen.findByRole('region', { name: 'Jobs' })).findAllByTestId('job-row');
    const text = (row: HTMLElement) => [...row.querySelectorAll('td')].map((cell) => cell.textContent);
    const [running, failed] = await rows();
    // The third job is on the next page.
    fireEvent.click(await screen.findByRole('button', { name: 'Older jobs' }));
    await waitFor(async () => expect(await rows()).toHaveLength(3));
    expect(calls.filter((c) => c.url.pathname === '/api/admin/jobs').at(-1)!.url.searchParams.get('cursor')).toBe('2');
    expect(screen.queryByRole('button', { name: 'Older jobs' })).toBeNull();
    const cached = (await rows())[2];
    expect(text(running!).slice(0, 3)).toEqual(['Running 42%', 'ivy', 'sdxl']);
    expect(text(running!)[5]).toBe('1 min 05 s');
    expect(text(failed!).slice(0, 3)).toEqual(['Failed', 'removed user', 'preview']);
    expect(text(failed!)[5]).toBe('1.50 s');
    expect(text(failed!)[6]).toBe('backend_error the GPU fell over');
    expect(text(cached!)[0]).toBe('Succeededcache');
    expect(text(cached!)[5]).toBe('850 ms');
    // Only active jobs can be canceled.
    expect(within(failed!).queryByRole('button')).toBeNull();
    expect(within(cached!).queryByRole('button')).toBeNull();

    fireEvent.click(within(running!).getByRole('button', { name: 'Cancel job of ivy: a running fox' }));
    await waitFor(async () => expect(text((await rows())[0]!)[0]).toBe('Canceled'));
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.url.pathname)).toEqual(['/api/runs/j3/cancel']);

    fireEvent.change(screen.getByRole('combobox', { name: 'Status' }), { target: { value: 'failed' } });
    await waitFor(async () => expect(await rows()).toHaveLength(1));
    expect(calls.filter((c) => c.url.pathname === '/api/admin/jobs').at(-1)!.url.searchParams.get('status')).toBe('failed');
  });

  it('creates a user and shows its token once, issues and rotates tokens, and removes a user after a confirmation', async () => {
    const { calls } = server('admin');
    renderPage();
    const panel = await screen.findByRole('region', { name: 'Users and tokens' });
    const row = async (name: string) => (await within(panel).findAllByTestId('user-row')).find((r) => r.querySelector('th')!.textContent!.startsWith(name))!;
    expect((await row('root')).textContent).toContain('(you)');
    expect(within(await row('ivy')).getByText('2')).toBeTruthy();

    // An empty name is explained, not sent.
    fireEvent.click(within(panel).getByRole('button', { name: 'Create user' }));
    expect(within(panel).getByRole('alert').textContent).toBe('Give the user a name.');
    fireEvent.change(within(panel).getByLabelText('New user'), { target: { value: ' kai ' } });
    fireEvent.click(within(panel).getByRole('button', { name: 'Create user' }));
    await waitFor(() => expect(within(panel).getByTestId('issued-token').textContent).toBe('atl_first-token-of-kai'));
    expect(within(panel).getByRole('status').textContent).toContain('New token for kai');
    await row('kai');
    expect(calls.find((c) => c.method === 'POST' && c.url.pathname === '/api/admin/users')).toBeTruthy();

    fireEvent.click(within(await row('ivy')).getByRole('button', { name: 'New token for ivy' }));
    await waitFor(() => expect(within(panel).getByTestId('issued-token').textContent).toBe('atl_added'));
    await waitFor(async () => expect(within(await row('ivy')).getByText('3')).toBeTruthy());
    fireEvent.click(within(await row('ivy')).getByRole('button', { name: 'Rotate tokens of ivy' }));
    await waitFor(() => expect(within(panel).getByTestId('issued-token').textContent).toBe('atl_rotated'));
    expect(within(panel).getByRole('status').textContent).toContain('3 older tokens revoked');

    // The server's refusal (the last admin) is said in the row.
    fireEvent.click(within(await row('root')).getByRole('button', { name: 'Remove root' }));
    fireEvent.click(within(await row('root')).getByRole('button', { name: 'Confirm removing root' }));
    expect((await within(await row('root')).findByRole('alert')).textContent).toBe('The last admin cannot be removed');

    fireEvent.click(within(await row('ivy')).getByRole('button', { name: 'Remove ivy' }));
    expect(calls.some((c) => c.method === 'DELETE' && c.url.pathname === '/api/admin/users/u2')).toBe(false);
    fireEvent.click(within(await row('ivy')).getByRole('button', { name: 'Confirm removing ivy' }));
    await waitFor(() => expect(within(panel).getAllByTestId('user-row').map((r) => r.querySelector('th')!.textContent)).toEqual(['root (you)', 'kai']));
  });
});
