// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fromRun, IDLE, type RunView } from '../../../web/src/features/live/run-state';
import type { RunEntry } from '../../../web/src/features/studio/run-entries';
import { RunQueue, statusText } from '../../../web/src/features/studio/run-queue';

afterEach(cleanup);

const view = (runId: string, status: RunView['status'], assets = 0): RunView => ({
  runId,
  status,
  mode: 't2i',
  model: 'preview',
  backend: { kind: 'builtin', label: 'Preview' },
  parameters: { prompt: runId, width: 64, height: 64, steps: 4, seed: 1, numImages: assets },
  seed: 1,
  progress: { fraction: status === 'running' ? 0.25 : 0, step: 1, totalSteps: 4 },
  error: null,
  warnings: [],
  cached: false,
  cachedFrom: null,
  cost: null,
  assets: Array.from({ length: assets }, (_, i) => ({ id: `${runId}-${i}`, type: 'image' as const, index: i, url: '/x.png', thumbnailUrl: '/x.webp', contentType: 'image/png', metadata: {}, evaluations: {} })),
});

const entry = (runId: string, status: RunView['status'], assets = 0): RunEntry => ({ key: runId, runId, label: `run ${runId}`, submittedAt: 1, live: fromRun(IDLE, view(runId, status, assets)) });

describe('the run queue', () => {
  it('says where each run is, in a few words', () => {
    expect(statusText(entry('a', 'running'))).toBe('Rendering 25%');
    expect(statusText(entry('b', 'queued'))).toBe('Queued');
    expect(statusText(entry('c', 'succeeded', 3))).toBe('Done · 3 images');
    expect(statusText({ ...entry('d', 'queued'), live: { ...entry('d', 'queued').live, status: 'succeeded' } })).toBe('Done');
    expect(statusText({ key: 'e', label: 'e', submittedAt: 1, live: { ...IDLE, phase: 'submitting' } })).toBe('Sending…');
    expect(statusText({ key: 'f', label: 'f', submittedAt: 1, offline: true, live: { ...IDLE, error: 'x' } })).toBe('Not sent: no connection');
  });

  it('selects, cancels (button or Escape on the focused run) and retries', () => {
    const onSelect = vi.fn();
    const onCancel = vi.fn();
    const onRetry = vi.fn();
    const offline: RunEntry = { key: 'local', label: 'run offline', submittedAt: 2, offline: true, live: { ...IDLE, error: 'no connection' } };
    render(<RunQueue runs={[offline, entry('a', 'running'), entry('b', 'succeeded', 1)]} selected="a" models={[]} onSelect={onSelect} onCancel={onCancel} onRetry={onRetry} />);
    const items = screen.getAllByTestId('run-item');
    expect(items.map((item) => item.getAttribute('data-status'))).toEqual(['offline', 'running', 'succeeded']);
    expect(items[1]!.getAttribute('aria-current')).toBe('true');
    expect(screen.getByTestId('queue-count').textContent).toBe('· 1 in progress');
    fireEvent.click(within(items[2]!).getByRole('button', { name: 'run b' }));
    expect(onSelect).toHaveBeenCalledWith('b');
    fireEvent.click(within(items[1]!).getByRole('button', { name: 'Cancel run: run a' }));
    fireEvent.keyDown(within(items[1]!).getByRole('button', { name: 'run a' }), { key: 'Escape' });
    expect(onCancel.mock.calls).toEqual([['a'], ['a']]);
    // Escape on a finished run does nothing; it has no Cancel.
    fireEvent.keyDown(within(items[2]!).getByRole('button', { name: 'run b' }), { key: 'Escape' });
    expect(onCancel).toHaveBeenCalledTimes(2);
    expect(within(items[2]!).queryByRole('button', { name: /Cancel/ })).toBeNull();
    fireEvent.click(within(items[0]!).getByRole('button', { name: 'Retry run: run offline' }));
    expect(onRetry).toHaveBeenCalledWith('local');
  });
});
