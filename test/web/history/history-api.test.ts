import { describe, expect, it } from 'vitest';
import { appendPage, collectionHref, hasMore, historyPath, parseCollection, parseSearch, tileSize, tileSource, type HistoryItem } from '../../../web/src/features/history/history-api';

const item = (id: string, extra: Partial<HistoryItem> = {}): HistoryItem => ({
  id,
  runId: `run-${id}`,
  type: 'image',
  prompt: `prompt ${id}`,
  imageUrl: `/media/${id}.png`,
  thumbnailUrl: `/media/${id}.webp`,
  modelUsed: 'preview',
  width: 512,
  height: 384,
  collection: 'workspace',
  expiresAt: null,
  createdAt: '2025-01-01T00:00:00.000Z',
  ...extra,
});

describe('history paging and filter', () => {
  it('reads and writes the collection in the URL query', () => {
    expect(parseCollection('')).toBe('workspace');
    expect(parseCollection('?collection=library')).toBe('library');
    expect(parseCollection('?collection=bogus')).toBe('workspace');
    expect(collectionHref('library')).toBe('/history?collection=library');
    expect(collectionHref('workspace')).toBe('/history');
    expect(collectionHref('library', 'red fox')).toBe('/history?collection=library&q=red+fox');
    expect(collectionHref('workspace', '  ')).toBe('/history');
    expect(parseSearch('?q=100%25+cotton')).toBe('100% cotton');
    expect(parseSearch('')).toBe('');
  });

  it('asks for images and videos of one collection, one page at a time', () => {
    const url = new URL(historyPath('library', 3, 24), 'http://x');
    expect(url.pathname).toBe('/api/images/history');
    expect(Object.fromEntries(url.searchParams)).toEqual({ type: 'all', collection: 'library', page: '3', perPage: '24' });
    const searched = new URL(historyPath('workspace', 1, 24, ' 50% off '), 'http://x');
    expect(searched.searchParams.get('q')).toBe('50% off');
  });

  it('appends pages without showing an item twice when offsets shift', () => {
    const shown = [item('a'), item('b')];
    expect(appendPage(shown, [item('b'), item('c')]).map((i) => i.id)).toEqual(['a', 'b', 'c']);
  });

  it('knows when another page may exist', () => {
    expect(hasMore(24, 30, 24, 24)).toBe(true);
    expect(hasMore(30, 30, 6, 24)).toBe(false);
    // A short page ends paging even if the total grew meanwhile.
    expect(hasMore(20, 40, 20, 24)).toBe(false);
  });

  it('shows thumbnails, a video poster, and never a video file as an image', () => {
    expect(tileSource(item('a'))).toBe('/media/a.webp');
    expect(tileSource(item('a', { thumbnailUrl: null }))).toBe('/media/a.png');
    expect(tileSource(item('v', { type: 'video', thumbnailUrl: '/media/v-poster.webp', imageUrl: '/media/v.mp4' }))).toBe('/media/v-poster.webp');
    expect(tileSource(item('v', { type: 'video', thumbnailUrl: null, imageUrl: '/media/v.mp4' }))).toBeUndefined();
  });

  it('gives tiles width and height attributes of the item shape', () => {
    expect(tileSize({ width: 1024, height: 512 })).toEqual({ width: 256, height: 128 });
    expect(tileSize({ width: 384, height: 768 })).toEqual({ width: 128, height: 256 });
    expect(tileSize({ width: 0, height: 0 })).toEqual({ width: 256, height: 256 });
  });
});
