// @vitest-environment jsdom
import { act, cleanup, configure, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HistoryPage } from '../../../web/src/pages/history-page';
import type { HistoryItem } from '../../../web/src/features/history/history-api';
import { fakeApi, signIn } from './fake-api';

// The waits are on conditions; their ceiling only matters when one never holds. The first
// render of a file (React, jsdom, the page's modules) can take over the default 1 s when the
// suite shares the machine.
configure({ asyncUtilTimeout: 5_000 });


const item = (n: number, extra: Partial<HistoryItem> = {}): HistoryItem => ({
  id: `a${n}`,
  runId: `r${n}`,
  type: 'image',
  prompt: `prompt number ${n}`,
  imageUrl: `http://h/media/${n}.png`,
  thumbnailUrl: `http://h/media/${n}.webp`,
  modelUsed: 'preview',
  width: 512,
  height: 256,
  collection: 'workspace',
  expiresAt: null,
  createdAt: new Date(Date.UTC(2025, 0, 1, 0, 60 - n)).toISOString(),
  ...extra,
});

/** A server with `total` workspace items (the first one a video) and `library` library items. */
function server(total: number, library = 0) {
  const workspace = Array.from({ length: total }, (_, i) => item(i + 1, i === 0 ? { type: 'video', imageUrl: 'http://h/media/1.mp4', thumbnailUrl: 'http://h/media/1-poster.webp' } : {}));
  const saved = Array.from({ length: library }, (_, i) => item(100 + i, { collection: 'library' }));
  return fakeApi(({ url }) => {
    if (url.pathname !== '/api/images/history') return undefined;
    const items = url.searchParams.get('collection') === 'library' ? saved : workspace;
    const page = Number(url.searchParams.get('page'));
    const perPage = Number(url.searchParams.get('perPage'));
    return { body: { images: items.slice((page - 1) * perPage, page * perPage), total: items.length, page, perPage } };
  });
}

let observers: { callback: IntersectionObserverCallback; element?: Element }[] = [];

beforeEach(() => {
  signIn();
  history.replaceState(null, '', '/history');
  observers = [];
  window.scrollTo = () => {}; // navigate() scrolls to the top; jsdom does not implement it
  // jsdom has no layout, so no IntersectionObserver: this one records what is observed and
  // lets the test say when the sentinel scrolls into view.
  vi.stubGlobal(
    'IntersectionObserver',
    class {
      private readonly entry: { callback: IntersectionObserverCallback; element?: Element };
      constructor(callback: IntersectionObserverCallback) {
        this.entry = { callback };
        observers.push(this.entry);
      }
      observe(element: Element) {
        this.entry.element = element;
      }
      disconnect() {
        observers = observers.filter((o) => o !== this.entry);
      }
    },
  );
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  localStorage.clear();
});

const links = () => within(screen.getByTestId('gallery')).getAllByRole('link');

describe('History page', () => {
  it('shows the newest items with thumbnails in fixed boxes, a Video badge on videos, and pages with Load more', async () => {
    const { calls } = server(30);
    render(<HistoryPage />);
    await waitFor(() => expect(links()).toHaveLength(24));
    expect(calls[0]!.url.searchParams.get('type')).toBe('all');
    expect(calls[0]!.auth).toBe('Bearer test-token');

    const first = links()[0]!;
    expect(first.getAttribute('href')).toBe('/images/a1');
    const poster = within(first).getByRole('img');
    expect(poster.getAttribute('src')).toBe('http://h/media/1-poster.webp');
    expect(poster.getAttribute('loading')).toBe('lazy');
    expect([poster.getAttribute('width'), poster.getAttribute('height')]).toEqual(['256', '128']);
    expect(poster.closest('.thumb-box')).not.toBeNull();
    expect(within(first).getByText('Video')).toBeTruthy();
    expect(within(links()[1]!).queryByText('Video')).toBeNull();
    expect(screen.getByText('24 of 30')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Load more' }));
    await waitFor(() => expect(links()).toHaveLength(30));
    expect(calls.at(-1)!.url.searchParams.get('page')).toBe('2');
    expect(links().map((a) => a.getAttribute('href'))).toEqual(Array.from({ length: 30 }, (_, i) => `/images/a${i + 1}`));
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
    // The detail page steps through the items in this order.
    expect(JSON.parse(sessionStorage.getItem('atelier.history-ids')!)).toHaveLength(30);
  });

  it('shows how long each workspace item has left ("expires in N h"); library items never expire', async () => {
    const soon = new Date(Date.now() + 5.5 * 3_600_000).toISOString();
    fakeApi(({ url }) => {
      if (url.pathname !== '/api/images/history') return undefined;
      const images = url.searchParams.get('collection') === 'library' ? [item(100, { collection: 'library' })] : [item(1, { expiresAt: soon }), item(2, { expiresAt: new Date(Date.now() + 20 * 60_000).toISOString() })];
      return { body: { images, total: images.length, page: 1, perPage: 24 } };
    });
    render(<HistoryPage />);
    await waitFor(() => expect(links()).toHaveLength(2));
    const cells = within(screen.getByTestId('gallery')).getAllByRole('listitem');
    expect(within(cells[0]!).getByText('expires in 5 h')).toBeTruthy();
    expect(within(cells[1]!).getByText('expires in 19 min')).toBeTruthy();
    fireEvent.click(within(screen.getByRole('radiogroup', { name: 'Collection' })).getByRole('radio', { name: 'Library' }));
    await waitFor(() => expect(links().map((a) => a.getAttribute('href'))).toEqual(['/images/a100']));
    expect(within(screen.getByTestId('gallery')).queryByText(/expire/)).toBeNull();
  });

  it('loads the next page when the sentinel scrolls into view', async () => {
    const { calls } = server(50);
    render(<HistoryPage />);
    await waitFor(() => expect(links()).toHaveLength(24));
    await waitFor(() => expect(observers).toHaveLength(1));
    act(() => observers[0]!.callback([{ isIntersecting: true } as IntersectionObserverEntry], {} as IntersectionObserver));
    await waitFor(() => expect(links()).toHaveLength(48));
    expect(calls.filter((c) => c.url.pathname === '/api/images/history').map((c) => c.url.searchParams.get('page'))).toEqual(['1', '2']);
  });

  it('switches to the library through the Collection radio group and keeps it in the URL', async () => {
    const { calls } = server(3, 2);
    render(<HistoryPage />);
    await waitFor(() => expect(links()).toHaveLength(3));
    const group = screen.getByRole('radiogroup', { name: 'Collection' });
    expect(within(group).getByRole('radio', { name: 'Workspace' }).getAttribute('aria-checked')).toBe('true');

    fireEvent.click(within(group).getByRole('radio', { name: 'Library' }));
    await waitFor(() => expect(links().map((a) => a.getAttribute('href'))).toEqual(['/images/a100', '/images/a101']));
    expect(location.search).toBe('?collection=library');
    expect(calls.at(-1)!.url.searchParams.get('collection')).toBe('library');
    expect(within(group).getByRole('radio', { name: 'Library' }).getAttribute('aria-checked')).toBe('true');

    // Arrow keys move the choice too (one tab stop for the group).
    fireEvent.keyDown(within(group).getByRole('radio', { name: 'Library' }), { key: 'ArrowLeft' });
    await waitFor(() => expect(links()).toHaveLength(3));
    expect(location.search).toBe('');

    // Back returns to the library.
    history.back();
    await waitFor(() => expect(location.search).toBe('?collection=library'));
    await waitFor(() => expect(links()).toHaveLength(2));
  });

  it('starts on the collection named in the URL and says when it is empty', async () => {
    history.replaceState(null, '', '/history?collection=library');
    const { calls } = server(3, 0);
    render(<HistoryPage />);
    expect(await screen.findByText('Nothing here yet')).toBeTruthy();
    expect(calls[0]!.url.searchParams.get('collection')).toBe('library');
    expect(screen.queryByTestId('gallery')).toBeNull();
  });

  it('shows an error with role=alert when the server fails', async () => {
    fakeApi(() => ({ status: 500, body: { code: 'internal', message: 'boom' } }));
    render(<HistoryPage />);
    expect((await screen.findByRole('alert')).textContent).toContain('boom');
  });

  it('searches prompts as the user types: asks the server with q once typing pauses, keeps it in the URL, says when nothing matches', async () => {
    const all = [item(1, { prompt: 'a red fox' }), item(2, { prompt: 'a lighthouse' }), item(3, { prompt: 'a FOX asleep' })];
    const { calls } = fakeApi(({ url }) => {
      if (url.pathname !== '/api/images/history') return undefined;
      const q = (url.searchParams.get('q') ?? '').toLowerCase();
      const images = all.filter((i) => i.prompt.toLowerCase().includes(q));
      return { body: { images, total: images.length, page: 1, perPage: 24 } };
    });
    render(<HistoryPage />);
    await waitFor(() => expect(links()).toHaveLength(3));
    const box = screen.getByRole('searchbox', { name: 'Search prompts' });
    fireEvent.change(box, { target: { value: 'f' } });
    fireEvent.change(box, { target: { value: 'fox' } });
    await waitFor(() => expect(links().map((a) => a.getAttribute('href'))).toEqual(['/images/a1', '/images/a3']));
    // One request for the settled text, none for the keystroke before it.
    expect(calls.map((c) => c.url.searchParams.get('q'))).toEqual([null, 'fox']);
    expect(location.search).toBe('?q=fox');
    expect(screen.getByText('2 items matching “fox”')).toBeTruthy();

    fireEvent.change(box, { target: { value: 'whale' } });
    expect(await screen.findByText('No prompts contain “whale”')).toBeTruthy();
    expect(screen.queryByTestId('gallery')).toBeNull();

    fireEvent.change(box, { target: { value: '' } });
    await waitFor(() => expect(links()).toHaveLength(3));
    expect(location.search).toBe('');
  });

  it('starts with the search named in the URL', async () => {
    history.replaceState(null, '', '/history?collection=library&q=tower');
    const { calls } = server(3, 2);
    render(<HistoryPage />);
    await waitFor(() => expect(links()).toHaveLength(2));
    expect(Object.fromEntries(calls[0]!.url.searchParams)).toMatchObject({ collection: 'library', q: 'tower' });
    expect((screen.getByRole('searchbox', { name: 'Search prompts' }) as HTMLInputElement).value).toBe('tower');
  });

  it('saves a workspace item to the library from its tile; saved items say so and no longer expire', async () => {
    const soon = new Date(Date.now() + 5.5 * 3_600_000).toISOString();
    const { calls } = fakeApi(({ method, url }) => {
      if (method === 'POST' && url.pathname === '/api/images/a1/save') return { status: 201, body: { id: 'lib-1', libraryId: 'lib-1', collection: 'library' } };
      if (method === 'POST' && url.pathname === '/api/images/a2/save') return { status: 404, body: { code: 'not_found', message: "No item with id 'a2'" } };
      if (url.pathname !== '/api/images/history') return undefined;
      const images = [item(1, { expiresAt: soon, libraryId: null }), item(2, { expiresAt: soon, libraryId: null }), item(3, { expiresAt: soon, libraryId: 'lib-3' })];
      return { body: { images, total: 3, page: 1, perPage: 24 } };
    });
    render(<HistoryPage />);
    await waitFor(() => expect(links()).toHaveLength(3));
    const cells = () => within(screen.getByTestId('gallery')).getAllByRole('listitem');
    // Saved earlier: no button, no expiry.
    expect(within(cells()[2]!).getByText(/Saved to library/)).toBeTruthy();
    expect(within(cells()[2]!).queryByRole('status')).toBeNull();
    expect(within(cells()[2]!).queryByRole('button')).toBeNull();
    expect(within(cells()[2]!).queryByText(/expire/)).toBeNull();

    expect(within(cells()[0]!).getByText('expires in 5 h')).toBeTruthy();
    fireEvent.click(within(cells()[0]!).getByRole('button', { name: 'Save to library: prompt number 1' }));
    await waitFor(() => expect(within(cells()[0]!).getByRole('status').textContent).toContain('Saved to library'));
    // The focus the button had moves to the note that replaced it.
    expect(document.activeElement).toBe(within(cells()[0]!).getByRole('status'));
    expect(within(cells()[0]!).queryByText(/expire/)).toBeNull();
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.url.pathname)).toEqual(['/api/images/a1/save']);

    fireEvent.click(within(cells()[1]!).getByRole('button', { name: 'Save to library: prompt number 2' }));
    expect((await within(cells()[1]!).findByRole('alert')).textContent).toBe("Not saved: No item with id 'a2'");
    expect(within(cells()[1]!).getByRole('button', { name: 'Save to library: prompt number 2' })).toBeTruthy();
  });

  it('offers no save on library items', async () => {
    history.replaceState(null, '', '/history?collection=library');
    server(0, 2);
    render(<HistoryPage />);
    await waitFor(() => expect(links()).toHaveLength(2));
    expect(within(screen.getByTestId('gallery')).queryByRole('button')).toBeNull();
  });
});
