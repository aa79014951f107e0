// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { safetyOf } from '../../../web/src/features/detail/safety';
import { AssetPage } from '../../../web/src/pages/asset-page';
import { fakeApi, signIn } from '../history/fake-api';
import { imageDetail, imageRun } from './fixtures';

const scanned = (extra: Record<string, unknown> = {}) => ({
  model: 'nsfwjs-mobilenet-v2',
  scores: { drawing: 0.02, hentai: 0.1, neutral: 0.05, porn: 0.8, sexy: 0.03 },
  flagged: true,
  ...extra,
});

function server(detail: ReturnType<typeof imageDetail>) {
  return fakeApi((call) => {
    const path = call.url.pathname;
    if (call.method === 'GET' && path === `/api/images/${detail.id}`) return { body: detail };
    if (call.method === 'GET' && path === `/api/status/${detail.runId}`) return { body: imageRun() };
    if (call.method === 'GET' && path === `/api/images/${detail.id}/file`) return { body: 'PNG bytes' };
    return undefined;
  });
}

beforeEach(() => {
  signIn();
  history.replaceState(null, '', '/images/asset-2');
  window.scrollTo = () => {};
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  localStorage.clear();
});

describe('safetyOf', () => {
  it('reads the verdict, model and scores, missing scores as 0', () => {
    expect(safetyOf({ metadata: { safety: { model: 'm', scores: { porn: 0.5 }, flagged: false } } })).toEqual({
      model: 'm',
      scores: { porn: 0.5, hentai: 0, sexy: 0, drawing: 0, neutral: 0 },
      flagged: false,
      blurred: false,
    });
  });

  it('is undefined for an asset that was not scanned or whose record is malformed', () => {
    expect(safetyOf({ metadata: {} })).toBeUndefined();
    expect(safetyOf({ metadata: { safety: { model: 'm' } } })).toBeUndefined();
  });
});

describe('the safety scan on the asset detail page', () => {
  it('shows the verdict, the model and the five scores as percentages', async () => {
    server(imageDetail({ metadata: { width: 512, height: 384, seed: 101, safety: scanned() } }));
    render(<AssetPage id="asset-2" />);
    const panel = await screen.findByTestId('safety');
    expect(within(panel).getByRole('heading', { name: 'Safety scan' })).toBeTruthy();
    expect(panel.textContent).toContain('Flagged');
    expect(panel.textContent).toContain('by nsfwjs-mobilenet-v2');
    const rows = within(panel).getAllByRole('meter');
    expect(rows.map((meter) => meter.getAttribute('aria-label'))).toEqual(['porn 80.0 %', 'hentai 10.0 %', 'sexy 3.0 %', 'drawing 2.0 %', 'neutral 5.0 %']);
    expect(within(panel).queryByRole('button', { name: 'Open the original' })).toBeNull();
  });

  it('says "Not flagged" for a clean output', async () => {
    server(imageDetail({ metadata: { width: 512, height: 384, seed: 101, safety: scanned({ flagged: false }) } }));
    render(<AssetPage id="asset-2" />);
    expect((await screen.findByTestId('safety')).textContent).toContain('Not flagged');
  });

  it('shows nothing for an asset that was not scanned', async () => {
    server(imageDetail());
    render(<AssetPage id="asset-2" />);
    await screen.findByTestId('asset-detail');
    expect(screen.queryByTestId('safety')).toBeNull();
  });

  it("opens a blurred item's original through the file route with the owner's token", async () => {
    const detail = imageDetail({ metadata: { width: 512, height: 384, seed: 101, safety: scanned({ blurred: true }) } });
    const { calls } = server(detail);
    const opened = vi.fn();
    vi.stubGlobal('open', opened);
    URL.createObjectURL = () => 'blob:original';
    render(<AssetPage id="asset-2" />);
    const panel = await screen.findByTestId('safety');
    expect(panel.textContent).toContain('Flagged — shared copies are blurred');
    fireEvent.click(within(panel).getByRole('button', { name: 'Open the original' }));
    await waitFor(() => expect(opened).toHaveBeenCalledWith('blob:original', '_blank', 'noopener'));
    const file = calls.find((call) => call.url.pathname === '/api/images/asset-2/file')!;
    expect(file.auth).toBe('Bearer test-token');
  });
});
