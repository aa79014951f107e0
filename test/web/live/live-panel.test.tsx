// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LivePanel } from '../../../web/src/features/live/live-panel';
import { IDLE, type RunView } from '../../../web/src/features/live/run-state';
import { VariantGrid } from '../../../web/src/features/results/variant-grid';

afterEach(cleanup);

const run = (patch: Partial<RunView> = {}): RunView => ({
  runId: 'r1',
  status: 'running',
  mode: 't2i',
  model: 'preview',
  parameters: { width: 1344, height: 768, steps: 20, seed: 5, numImages: 2 },
  seed: 5,
  progress: { fraction: 0.25, step: 5, totalSteps: 20 },
  error: null,
  warnings: [],
  cached: false,
  cachedFrom: null,
  cost: null,
  assets: [],
  ...patch,
});

describe('live panel', () => {
  it('shows progress, the step count, the preview and Cancel while running', () => {
    const onCancel = vi.fn();
    render(<LivePanel live={{ ...IDLE, phase: 'running', run: run(), status: 'running', step: 5, totalSteps: 20, fraction: 0.25, preview: 'data:image/png;base64,AA' }} onCancel={onCancel} aspectRatio="16 / 9" />);
    const progress = screen.getByTestId('job-progress');
    expect(within(progress).getByRole('progressbar').getAttribute('aria-valuenow')).toBe('25');
    expect(progress.textContent).toContain('Step 5 / 20');
    expect(screen.getByRole('img', { name: 'Live preview' }).getAttribute('src')).toBe('data:image/png;base64,AA');
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(onCancel).toHaveBeenCalledOnce();
    expect(screen.queryByTestId('cache-badge')).toBeNull();
  });

  it('a cache hit shows the badge; a finished run has no Cancel', () => {
    render(<LivePanel live={{ ...IDLE, phase: 'done', run: run({ status: 'succeeded', cached: true, cachedFrom: 'r0' }), status: 'succeeded', fraction: 1, step: 20, totalSteps: 20 }} onCancel={() => undefined} aspectRatio="1 / 1" />);
    expect(screen.getByTestId('cache-badge').textContent).toBe('Cached');
    expect(screen.queryByRole('button', { name: 'Cancel' })).toBeNull();
  });

  it('errors are alerts with the server’s message', () => {
    render(<LivePanel live={{ ...IDLE, phase: 'idle', error: "Model 'x' does not support text-to-image" }} onCancel={() => undefined} aspectRatio="1 / 1" />);
    expect(screen.getByRole('alert').textContent).toBe("Model 'x' does not support text-to-image");
  });
});

describe('variant grid', () => {
  const asset = (i: number, patch: object = {}) => ({
    id: `ast_${i}`,
    type: 'image' as const,
    index: i,
    url: `/media/${i}.png?sig=x`,
    thumbnailUrl: `/media/${i}.thumb.webp?sig=x`,
    contentType: 'image/png',
    metadata: {},
    evaluations: {},
    ...patch,
  });

  it('links each result to its detail page, in order, sized by the run ratio, with its seed and scores when present', () => {
    render(<VariantGrid run={run({ status: 'succeeded', assets: [asset(1, { evaluations: { clipScore: 0.31234, ssim: 0.9, phash: 'ff' } }), asset(0)] })} />);
    const grid = screen.getByTestId('variant-grid');
    const links = within(grid).getAllByRole('link');
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['/images/ast_0', '/images/ast_1']);
    const items = within(grid).getAllByTestId('result');
    // Without variants the original is shown; with a `high` variant, that (see below).
    expect(within(items[0]!).getByRole('img', { name: 'Result 1' }).getAttribute('src')).toBe('/media/0.png?sig=x');
    expect(within(items[1]!).getByRole('img', { name: 'Result 2' })).toBeTruthy();
    expect(grid.style.getPropertyValue('--ratio')).toBe(String(1344 / 768));
    expect(items.map((item) => within(item).getByTestId('result-seed').textContent)).toEqual(['Seed 5', 'Seed 6']);
    const scores = within(grid).getAllByTestId('scores');
    expect(scores).toHaveLength(1);
    expect(scores[0]!.textContent).toBe('CLIP 0.312 · SSIM 0.900');
  });

  it('shows the high variant large, the preview renderer and flagged badges, and calls the actions', () => {
    const onView = vi.fn();
    const onVary = vi.fn();
    const high = { name: 'high', format: 'webp', width: 1344, height: 768, url: '/media/0.high.webp' };
    const normal = { name: 'normal', format: 'jpeg', width: 1344, height: 768, url: '/media/0.normal.jpg' };
    const flagged = asset(0, { variants: [normal, high], metadata: { seed: 77, safety: { model: 'nsfw', scores: {}, flagged: true } } });
    render(<VariantGrid run={run({ status: 'succeeded', assets: [flagged, asset(1)] })} preview actions={{ onView, onVary, onUpscale: () => undefined, upscaleRefusal: 'Hires fix is a text-to-image pass' }} />);
    expect(screen.getByRole('img', { name: 'Result 1' }).getAttribute('src')).toBe('/media/0.high.webp');
    expect(screen.getAllByTestId('preview-badge').map((b) => b.textContent)).toEqual(['Preview renderer — no model weights', 'Preview renderer — no model weights']);
    expect(screen.getAllByTestId('flagged-badge')).toHaveLength(1);
    expect(screen.getAllByTestId('result-seed')[0]!.textContent).toBe('Seed 77');
    fireEvent.click(screen.getByRole('button', { name: 'View result 2' }));
    expect(onView).toHaveBeenCalledWith(1);
    fireEvent.click(screen.getByRole('button', { name: 'Vary result 1' }));
    expect(onVary).toHaveBeenCalledWith(flagged);
    expect(screen.getByRole('button', { name: 'Upscale result 1' })).toHaveProperty('disabled', true);
  });

  it('a video shows its poster with a play badge', () => {
    render(<VariantGrid run={run({ status: 'succeeded', mode: 't2v', assets: [asset(0, { type: 'video', contentType: 'video/mp4', url: '/media/0.mp4', thumbnailUrl: '/media/0.poster.webp' })] })} />);
    const img = screen.getByRole('img', { name: 'Result 1' });
    expect(img.getAttribute('src')).toBe('/media/0.poster.webp');
    expect(img.closest('.thumb')!.querySelector('.play-badge')).not.toBeNull();
  });
});
