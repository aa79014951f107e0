// @vitest-environment jsdom
// @vitest-environment-options { "url": "http://127.0.0.1:29414/" }
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { saveToken } from '../../../web/src/auth/token';
import { setPendingDraft } from '../../../web/src/features/generate/draft';
import { resetStudio } from '../../../web/src/features/studio/studio-store';
import { GeneratePage } from '../../../web/src/pages/generate-page';
import { client, startRealServer, type RealServer } from './real-server';

/** The page's origin above (jsdom fixes it when the window is made). */
// Below Linux's ephemeral range (32768–60999), so no outgoing connection can hold it.
const PORT = '29414';

/**
 * The whole Generate screen in jsdom against a real server: real fetch, the real SSE
 * stream, the real schema from /openapi.json. (The browser end-to-end tests cover layout.)
 */
describe('Generate page against a real server', () => {
  let t: RealServer;
  let firstAssetId = '';
  const nodeFetch = globalThis.fetch;

  beforeAll(async () => {
    t = await startRealServer({ PORT });
    expect(location.origin).toBe(t.url);
    saveToken(t.adminToken);
    globalThis.fetch = (input, init) => nodeFetch(new URL(String(input), location.href), init);
  });
  afterEach(() => {
    cleanup();
    // The studio outlives the page (it is app state) and the address names the run shown:
    // each test starts from neither.
    resetStudio();
    history.replaceState(null, '', '/');
  });
  afterAll(async () => {
    globalThis.fetch = nodeFetch;
    await t?.close();
  });

  const modelsLoaded = () => waitFor(() => expect(screen.getByRole('option', { name: 'preview — t2i, i2i (Preview renderer — no model weights)' })).toBeTruthy());

  it('generates two images from the keyboard and shows them in the variant grid', async () => {
    render(<GeneratePage />);
    await modelsLoaded();
    const generate = screen.getByRole('button', { name: 'Generate' }) as HTMLButtonElement;
    expect(generate.disabled).toBe(true); // no prompt yet
    const prompt = screen.getByLabelText('Prompt');
    fireEvent.change(prompt, { target: { value: 'a lighthouse at dusk' } });
    expect(screen.getByTestId('prompt-stats').textContent).toBe('20 characters · 4 words');
    fireEvent.change(screen.getByLabelText('Steps'), { target: { value: '5' } });
    fireEvent.change(screen.getByLabelText('Number of images'), { target: { value: '2' } });
    fireEvent.change(screen.getByLabelText('Aspect ratio'), { target: { value: '3:2' } });
    await waitFor(() => expect(generate.disabled).toBe(false));
    const cost = screen.getByTestId('cost-estimate');
    await waitFor(() => expect(cost.getAttribute('data-source')).toBe('server'));

    fireEvent.keyDown(prompt, { key: 'Enter', ctrlKey: true });
    const grid = await screen.findByTestId('variant-grid', {}, { timeout: 20_000 });
    const images = within(grid).getAllByRole('img');
    expect(images.map((img) => img.getAttribute('alt'))).toEqual(['Result 1', 'Result 2']);
    const href = within(grid).getAllByRole('link')[0]!.getAttribute('href')!;
    expect(href).toMatch(/^\/images\/[^/]+$/);
    firstAssetId = decodeURIComponent(href.slice('/images/'.length));
    // Scores are stored just after success: the grid picks them up a moment later.
    await waitFor(() => expect(within(screen.getByTestId('variant-grid')).getAllByTestId('scores')).toHaveLength(2), { timeout: 8_000 });
    expect(within(screen.getByTestId('variant-grid')).getAllByTestId('scores')[0]!.textContent).toMatch(/Diversity \d/);
    const progress = screen.getByTestId('job-progress');
    expect(within(progress).getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
    expect(progress.textContent).toMatch(/Step (\d+) \/ \1/);
    // The asset the grid links to is the one the server made, at the size the form asked for.
    const asset = await client(t).get(`/api/images/${firstAssetId}`);
    expect(asset.status, asset.text).toBe(200);
    // Unlocked: the field now shows the seed the run used, ready to reuse.
    expect((screen.getByLabelText('Seed') as HTMLInputElement).value).toMatch(/^\d+$/);
  });

  it('invalid Advanced JSON disables Generate with an alert; fixing it flows back into the form', async () => {
    render(<GeneratePage />);
    await modelsLoaded();
    fireEvent.change(screen.getByLabelText('Prompt'), { target: { value: 'x' } });
    const editor = screen.getByLabelText('Advanced JSON') as HTMLTextAreaElement;
    await waitFor(() => expect(screen.getByRole('button', { name: 'Generate' })).toHaveProperty('disabled', false));
    const body = JSON.parse(editor.value) as Record<string, unknown>;
    fireEvent.focus(editor);
    fireEvent.change(editor, { target: { value: JSON.stringify({ ...body, steps: 400 }) } });
    expect(screen.getByRole('alert').textContent).toContain('steps: expected at most 150 but received 400');
    expect(screen.getByRole('button', { name: 'Generate' })).toHaveProperty('disabled', true);
    // A wrong type is an error as typed, not quietly the model's default.
    fireEvent.change(editor, { target: { value: JSON.stringify({ ...body, steps: 'many' }) } });
    expect(screen.getByRole('alert').textContent).toContain('steps: expected integer but received "many"');
    expect(screen.getByRole('button', { name: 'Generate' })).toHaveProperty('disabled', true);
    expect((screen.getByLabelText('Steps') as HTMLInputElement).value).toBe(String(body.steps));
    fireEvent.change(editor, { target: { value: '{"prompt": "x",' } });
    expect(screen.getByRole('alert').textContent).toMatch(/Not valid JSON/);
    fireEvent.change(editor, { target: { value: JSON.stringify({ ...body, steps: 9, priority: 5 }) } });
    expect(screen.queryByRole('alert')).toBeNull();
    expect((screen.getByLabelText('Steps') as HTMLInputElement).value).toBe('9');
    expect(screen.getByRole('button', { name: 'Generate' })).toHaveProperty('disabled', false);
  });

  it('takes a pending draft: "Use as reference" opens Image to image with the asset as reference', async () => {
    const assetId = firstAssetId;
    expect(assetId).toBeTruthy();
    setPendingDraft({ mode: 'i2i', params: { prompt: 'stormy', steps: 4 }, reference: { assetId, url: '/media/ref.png?sig=1' } });
    await act(async () => {
      render(<GeneratePage />);
    });
    await modelsLoaded();
    await waitFor(() => expect(screen.getByRole('tab', { name: 'Image to image' }).getAttribute('aria-selected')).toBe('true'));
    expect(screen.getByRole('img', { name: 'Reference preview' }).getAttribute('src')).toBe('/media/ref.png?sig=1');
    expect((screen.getByLabelText('Prompt') as HTMLTextAreaElement).value).toBe('stormy');
    expect(JSON.parse((screen.getByLabelText('Advanced JSON') as HTMLTextAreaElement).value)).toMatchObject({ reference_image: { asset_id: assetId }, steps: 4 });
    fireEvent.click(screen.getByRole('button', { name: 'Generate' }));
    await screen.findByTestId('variant-grid', {}, { timeout: 20_000 });
    expect(screen.queryByRole('alert')).toBeNull();
  });
});
