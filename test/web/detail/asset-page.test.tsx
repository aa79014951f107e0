// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { takePendingDraft } from '../../../web/src/features/generate/draft';
import { AssetPage } from '../../../web/src/pages/asset-page';
import { fakeApi, signIn, type Call } from '../history/fake-api';
import { imageDetail, imageRun } from './fixtures';

function server(detail = imageDetail(), extra: (call: Call) => { status?: number; body?: unknown } | undefined = () => undefined) {
  return fakeApi((call) => {
    const path = call.url.pathname;
    if (call.method === 'GET' && path === `/api/images/${detail.id}`) return { body: detail };
    if (call.method === 'GET' && path === `/api/status/${detail.runId}`) return { body: imageRun() };
    return extra(call);
  });
}

beforeEach(() => {
  signIn();
  history.replaceState(null, '', '/images/asset-2');
  sessionStorage.clear();
  window.scrollTo = () => {};
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  localStorage.clear();
});

describe('Asset detail page', () => {
  it('shows the best variant linking to the original and every parameter in a list', async () => {
    server();
    render(<AssetPage id="asset-2" />);
    const page = await screen.findByTestId('asset-detail');
    const img = within(page).getByRole('img', { name: 'a quiet harbour at dawn' });
    expect(img.getAttribute('src')).toBe('http://h/media/high.webp?sig=1');
    expect(img.closest('a')!.getAttribute('href')).toBe('http://h/media/original.png?sig=1');
    const list = screen.getByTestId('parameters');
    expect(list.tagName).toBe('DL');
    const terms = [...list.querySelectorAll('dt')].map((dt) => [dt.textContent, dt.nextElementSibling!.textContent]);
    expect(terms).toEqual(expect.arrayContaining([['Seed', '101'], ['Mode', 'Text to image'], ['Cost', '0.0123 USD'], ['Cached', 'No'], ['Sampler', 'Euler'], ['Hires fix', 'Yes']]));
    const download = screen.getByRole('link', { name: 'Download' });
    expect(download.getAttribute('href')).toBe('http://h/media/original.png?sig=1');
    expect(download.getAttribute('download')).toBe('a-quiet-harbour-at-dawn-101.png');
  });

  it('shows a video with controls and its poster, without "Use as reference"', async () => {
    server(imageDetail({ type: 'video', imageUrl: 'http://h/v.mp4', thumbnailUrl: 'http://h/poster.webp' }));
    render(<AssetPage id="asset-2" />);
    await screen.findByTestId('asset-detail');
    const video = document.querySelector('video')!;
    expect(video.hasAttribute('controls')).toBe(true);
    expect(video.getAttribute('poster')).toBe('http://h/poster.webp');
    expect(video.getAttribute('src')).toBe('http://h/v.mp4');
    expect(screen.queryByRole('button', { name: 'Use as reference' })).toBeNull();
  });

  it('copies the parameters and confirms "Copied"', async () => {
    server();
    const writeText = vi.fn(async () => {});
    vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText } });
    render(<AssetPage id="asset-2" />);
    fireEvent.click(await screen.findByRole('button', { name: 'Copy parameters' }));
    expect(await screen.findByText('Copied')).toBeTruthy();
    expect(writeText).toHaveBeenCalledWith(expect.stringContaining('Seed: 101, Size: 512x384'));
  });

  it('falls back to execCommand when there is no clipboard API', async () => {
    server();
    vi.stubGlobal('navigator', { ...navigator, clipboard: undefined });
    const execCommand = vi.fn(() => true);
    document.execCommand = execCommand;
    render(<AssetPage id="asset-2" />);
    fireEvent.click(await screen.findByRole('button', { name: 'Copy parameters' }));
    expect(await screen.findByText('Copied')).toBeTruthy();
    expect(execCommand).toHaveBeenCalledWith('copy');
  });

  it('"Reuse settings" and "Use as reference" hand a draft to Generate', async () => {
    server();
    render(<AssetPage id="asset-2" />);
    fireEvent.click(await screen.findByRole('button', { name: 'Reuse settings' }));
    expect(location.pathname).toBe('/');
    expect(takePendingDraft()).toMatchObject({ mode: 't2i', params: { seed: 101, steps: 4, prompt: 'a quiet harbour at dawn' } });

    fireEvent.click(screen.getByRole('button', { name: 'Use as reference' }));
    expect(takePendingDraft()).toEqual(expect.objectContaining({ mode: 'i2i', reference: { assetId: 'asset-2', url: 'http://h/media/high.webp?sig=1' } }));
  });

  it('saves to the library and then says so', async () => {
    const { calls } = server(imageDetail(), (call) => (call.method === 'POST' && call.url.pathname === '/api/images/asset-2/save' ? { status: 201, body: imageDetail({ id: 'lib-1', collection: 'library' }) } : undefined));
    render(<AssetPage id="asset-2" />);
    fireEvent.click(await screen.findByRole('button', { name: 'Save to library' }));
    expect(await screen.findByText('Saved to library')).toBeTruthy();
    expect(calls.some((c) => c.method === 'POST' && c.url.pathname === '/api/images/asset-2/save')).toBe(true);
    expect(screen.queryByRole('button', { name: 'Save to library' })).toBeNull();
    expect(screen.getByRole('link', { name: 'Open the library copy' }).getAttribute('href')).toBe('/images/lib-1');
  });

  it('shows an item already in the library as saved', async () => {
    server(imageDetail({ collection: 'library', libraryId: 'asset-2' }));
    render(<AssetPage id="asset-2" />);
    expect(await screen.findByText('Saved to library')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Save to library' })).toBeNull();
    expect(screen.queryByRole('link', { name: 'Open the library copy' })).toBeNull();
  });

  it('shows a workspace item saved earlier as saved, with a link to its library copy', async () => {
    server(imageDetail({ libraryId: 'lib-9' }));
    render(<AssetPage id="asset-2" />);
    expect(await screen.findByText('Saved to library')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Open the library copy' }).getAttribute('href')).toBe('/images/lib-9');
  });

  it('confirms deletion in a dialog: Escape keeps, focus returns, "Delete permanently" deletes and goes to History', async () => {
    const { calls } = server(imageDetail(), (call) => (call.method === 'DELETE' && call.url.pathname === '/api/images/asset-2' ? { status: 204 } : undefined));
    render(<AssetPage id="asset-2" />);
    const deleteButton = await screen.findByRole('button', { name: 'Delete' });
    deleteButton.focus();
    fireEvent.click(deleteButton);
    const dialog = screen.getByRole('dialog');
    expect(document.activeElement).toBe(within(dialog).getByRole('button', { name: 'Keep' }));

    // Tab wraps inside the dialog.
    const confirm = within(dialog).getByRole('button', { name: 'Delete permanently' });
    confirm.focus();
    fireEvent.keyDown(confirm, { key: 'Tab' });
    expect(document.activeElement).toBe(within(dialog).getByRole('button', { name: 'Keep' }));

    fireEvent.keyDown(dialog, { key: 'Escape' });
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(document.activeElement).toBe(deleteButton);
    expect(location.pathname).toBe('/images/asset-2'); // Escape in the dialog did not leave the page
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);

    fireEvent.click(deleteButton);
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Keep' }));
    expect(screen.queryByRole('dialog')).toBeNull();

    fireEvent.click(deleteButton);
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Delete permanently' }));
    await waitFor(() => expect(location.pathname).toBe('/history'));
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.url.pathname)).toEqual(['/api/images/asset-2']);
  });

  it('says clearly when the item does not exist', async () => {
    fakeApi(() => undefined);
    render(<AssetPage id="nope" />);
    expect((await screen.findByRole('heading', { name: 'Image not found' })).textContent).toBe('Image not found');
    expect(screen.queryByTestId('asset-detail')).toBeNull();
  });

  it('goes back to the gallery it came from on Escape', async () => {
    sessionStorage.setItem('atelier.history-return', '/history?collection=library');
    server();
    render(<AssetPage id="asset-2" />);
    await screen.findByTestId('asset-detail');
    fireEvent.keyDown(document.body, { key: 'Escape' });
    expect(location.pathname + location.search).toBe('/history?collection=library');
  });
});

describe('stepping through the gallery', () => {
  it('moves to the newer and older item with the arrow keys and links', async () => {
    sessionStorage.setItem('atelier.history-ids', JSON.stringify(['asset-1', 'asset-2', 'asset-3']));
    server();
    render(<AssetPage id="asset-2" />);
    await screen.findByTestId('asset-detail');
    expect(screen.getByRole('link', { name: '‹ Newer' }).getAttribute('href')).toBe('/images/asset-1');
    expect(screen.getByRole('link', { name: 'Older ›' }).getAttribute('href')).toBe('/images/asset-3');
    fireEvent.keyDown(document.body, { key: 'ArrowRight' });
    expect(location.pathname).toBe('/images/asset-3');
    fireEvent.keyDown(document.body, { key: 'ArrowLeft' });
    expect(location.pathname).toBe('/images/asset-1');
  });

  it('has no stepping for an item that was not in the gallery', async () => {
    sessionStorage.setItem('atelier.history-ids', JSON.stringify(['x', 'y']));
    server();
    render(<AssetPage id="asset-2" />);
    await screen.findByTestId('asset-detail');
    expect(screen.queryByRole('link', { name: '‹ Newer' })).toBeNull();
    fireEvent.keyDown(document.body, { key: 'ArrowRight' });
    expect(location.pathname).toBe('/images/asset-2');
  });
});
