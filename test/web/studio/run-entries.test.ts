import { describe, expect, it } from 'vitest';
import { IDLE, type RunView } from '../../../web/src/features/live/run-state';
import { entryOfRun, isActive, MAX_ENTRIES, mergeRuns, ordered, storedEntry, type RunEntry } from '../../../web/src/features/studio/run-entries';

const view = (runId: string, patch: Partial<RunView> = {}): RunView => ({
  runId,
  status: 'succeeded',
  mode: 't2i',
  model: 'preview',
  parameters: { prompt: `prompt of ${runId}`, width: 64, height: 64, steps: 2, seed: 1, numImages: 1 },
  seed: 1,
  progress: { fraction: 1, step: 2, totalSteps: 2 },
  error: null,
  warnings: [],
  cached: false,
  cachedFrom: null,
  cost: null,
  assets: [],
  createdAt: '2026-12-04T10:00:00.000Z',
  ...patch,
});

describe('run entries', () => {
  it('a listed run becomes an entry keyed by its id, labelled by its prompt, dated by its creation', () => {
    const entry = entryOfRun(view('r1', { status: 'running', progress: { fraction: 0.5, step: 1, totalSteps: 2 } }));
    expect(entry).toMatchObject({ key: 'r1', runId: 'r1', label: 'prompt of r1', submittedAt: Date.parse('2026-12-04T10:00:00.000Z') });
    expect(entry.live).toMatchObject({ phase: 'running', status: 'running', fraction: 0.5 });
    expect(isActive(entry)).toBe(true);
    expect(isActive(entryOfRun(view('r2')))).toBe(false);
  });

  it('merging a listing adds unknown runs, refreshes known ones, and leaves the followed ones to their stream', () => {
    const known = entryOfRun(view('known', { status: 'queued', createdAt: '2026-12-04T10:01:00.000Z' }));
    const followed = entryOfRun(view('followed', { status: 'running', createdAt: '2026-12-04T10:02:00.000Z' }));
    const sending: RunEntry = { key: 'local', label: 'not sent yet', submittedAt: Date.parse('2026-12-04T10:03:00.000Z'), live: { ...IDLE, phase: 'submitting' } };
    const merged = mergeRuns(
      [known, followed, sending],
      [view('known', { createdAt: '2026-12-04T10:01:00.000Z' }), view('followed', { createdAt: '2026-12-04T10:02:00.000Z' }), view('new', { createdAt: '2026-12-04T09:00:00.000Z' })],
      new Set(['followed']),
    );
    expect(merged.map((entry) => entry.key)).toEqual(['local', 'followed', 'known', 'new']);
    expect(merged.find((entry) => entry.key === 'known')!.live.status).toBe('succeeded');
    expect(merged.find((entry) => entry.key === 'followed')!.live.status).toBe('running');
  });

  it('keeps the newest entries, and the selected one however old', () => {
    const entries = Array.from({ length: MAX_ENTRIES + 5 }, (_, i) => entryOfRun(view(`r${i}`, { createdAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString() })));
    const kept = ordered(entries, 'r0');
    expect(kept).toHaveLength(MAX_ENTRIES + 1);
    expect(kept[0]!.key).toBe(`r${MAX_ENTRIES + 4}`);
    expect(kept.at(-1)!.key).toBe('r0');
  });

  it('is stored without its preview frame; a submission cut by a reload is stored as one to retry', () => {
    const running = { ...entryOfRun(view('r', { status: 'running' })), live: { ...entryOfRun(view('r', { status: 'running' })).live, preview: 'data:image/jpeg;base64,AA', reconnecting: true } };
    expect(storedEntry(running).live).toMatchObject({ preview: undefined, reconnecting: false, status: 'running' });
    const sending: RunEntry = { key: 'k', label: 'x', submittedAt: 1, request: { path: '/api/generate/text-to-image', body: { prompt: 'x' }, idempotencyKey: 'k' }, live: { ...IDLE, phase: 'submitting' } };
    const stored = storedEntry(sending);
    expect(stored.offline).toBe(true);
    expect(stored.live.phase).toBe('idle');
    expect(stored.request?.idempotencyKey).toBe('k');
    expect(isActive(stored)).toBe(false);
  });
});
