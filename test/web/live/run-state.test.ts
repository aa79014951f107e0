import { describe, expect, it } from 'vitest';
import { IDLE, liveReducer, type LiveState, type RunView } from '../../../web/src/features/live/run-state';

const run = (patch: Partial<RunView> = {}): RunView => ({
  runId: 'r1',
  status: 'queued',
  mode: 't2i',
  model: 'preview',
  parameters: { width: 1024, height: 1024, steps: 20, seed: 5, numImages: 1 },
  seed: 5,
  progress: { fraction: 0, step: 0, totalSteps: 0 },
  error: null,
  warnings: [],
  cached: false,
  cachedFrom: null,
  cost: null,
  assets: [],
  ...patch,
});
const event = (type: string, data: unknown) => ({ type: 'event' as const, event: { event: type, data: JSON.stringify(data), id: '1' } });

describe('live reducer', () => {
  it('follows a run from submit through progress and previews to success', () => {
    let state: LiveState = liveReducer(IDLE, { type: 'submit' });
    expect(state.phase).toBe('submitting');
    state = liveReducer(state, { type: 'accepted', run: run() });
    expect(state).toMatchObject({ phase: 'running', status: 'queued', totalSteps: 20 });
    state = liveReducer(state, event('running', {}));
    state = liveReducer(state, event('progress', { step: 5, totalSteps: 20, progress: 0.25 }));
    expect(state).toMatchObject({ status: 'running', step: 5, totalSteps: 20, fraction: 0.25 });
    state = liveReducer(state, event('preview', { mime: 'image/png', image: 'data:image/png;base64,AAAA', step: 6, totalSteps: 20 }));
    expect(state).toMatchObject({ preview: 'data:image/png;base64,AAAA', step: 5, totalSteps: 20, fraction: 0.25 });
    state = liveReducer(state, event('succeeded', { assets: [] }));
    expect(state).toMatchObject({ status: 'succeeded', fraction: 1, step: 20 });
    state = liveReducer(state, { type: 'final', run: run({ status: 'succeeded', progress: { fraction: 1, step: 20, totalSteps: 20 } }) });
    expect(state.phase).toBe('done');
  });

  it('ignores previews that are not images', () => {
    const state = liveReducer({ ...IDLE, phase: 'running' }, event('preview', { image: 'javascript:alert(1)' }));
    expect(state.preview).toBeUndefined();
  });

  it('a cache hit arrives already succeeded', () => {
    const state = liveReducer(liveReducer(IDLE, { type: 'submit' }), { type: 'accepted', run: run({ status: 'succeeded', cached: true, progress: { fraction: 1, step: 20, totalSteps: 20 } }) });
    expect(state).toMatchObject({ phase: 'done', fraction: 1, run: { cached: true } });
  });

  it('failure carries the server’s message; a refused submit goes back to idle with it', () => {
    const failed = liveReducer({ ...IDLE, phase: 'running' }, event('failed', { error: { code: 'backend_error', message: 'The GPU caught fire' } }));
    expect(failed).toMatchObject({ status: 'failed', error: 'The GPU caught fire' });
    const refused = liveReducer(liveReducer(IDLE, { type: 'submit' }), { type: 'error', message: 'Expected a non-empty prompt' });
    expect(refused).toMatchObject({ phase: 'idle', error: 'Expected a non-empty prompt' });
  });

  it('cancel and retry', () => {
    let state = liveReducer({ ...IDLE, phase: 'running', step: 4, fraction: 0.4 }, { type: 'cancelling' });
    expect(state.cancelling).toBe(true);
    state = liveReducer(state, event('retrying', {}));
    expect(state).toMatchObject({ status: 'queued', step: 0, fraction: 0 });
    state = liveReducer(state, event('canceled', {}));
    expect(state).toMatchObject({ status: 'canceled', cancelling: false });
  });
});
