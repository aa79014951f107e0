import { api } from '../../api/client';

/** One gallery item as `GET /api/images/history?type=all` returns it. */
export interface HistoryItem {
  readonly id: string;
  readonly runId: string;
  /** Older servers omit it: then it is an image. */
  readonly type?: 'image' | 'video';
  readonly prompt: string;
  readonly imageUrl: string;
  /** For a video, its poster frame. */
  readonly thumbnailUrl: string | null;
  readonly modelUsed: string;
  readonly width: number;
  readonly height: number;
  readonly collection: Collection;
  /** The library item holding this one (its saved copy, or itself in the library); null when not saved. Older servers omit it. */
  readonly libraryId?: string | null;
  readonly expiresAt: string | null;
  readonly createdAt: string;
}

export interface HistoryPage {
  readonly images: readonly HistoryItem[];
  readonly total: number;
  readonly page: number;
  readonly perPage: number;
}

export type Collection = 'workspace' | 'library';

export const PER_PAGE = 24;

/** The longest search the server takes (GET /api/images/history `q`). */
export const MAX_SEARCH = 200;

/** The collection named by the page's query (`?collection=library`); workspace otherwise. */
export function parseCollection(search: string): Collection {
  return new URLSearchParams(search).get('collection') === 'library' ? 'library' : 'workspace';
}

/** The prompt search named by the page's query (`?q=fox`); empty when none. */
export function parseSearch(search: string): string {
  return (new URLSearchParams(search).get('q') ?? '').slice(0, MAX_SEARCH);
}

/**
 * The app URL showing `collection` filtered by the prompt search `q` (workspace and no search
 * are the defaults, so they keep the plain path).
 */
export function collectionHref(collection: Collection, q = ''): string {
  const query = new URLSearchParams();
  if (collection === 'library') query.set('collection', 'library');
  if (q.trim()) query.set('q', q);
  const text = query.toString();
  return text ? `/history?${text}` : '/history';
}

/** The API path of one page of the gallery: images and videos together, newest first, optionally only prompts containing `q`. */
export function historyPath(collection: Collection, page: number, perPage = PER_PAGE, q = ''): string {
  const query = new URLSearchParams({ type: 'all', collection, page: String(page), perPage: String(perPage) });
  if (q.trim()) query.set('q', q.trim());
  return `/api/images/history?${query}`;
}

export function fetchHistoryPage(collection: Collection, page: number, signal?: AbortSignal, q = ''): Promise<HistoryPage> {
  return api<HistoryPage>(historyPath(collection, page, PER_PAGE, q), { signal });
}

/** Saves a workspace item to the library (a no-op for one saved before); resolves to the library item's id. */
export async function saveToLibrary(id: string): Promise<string> {
  const saved = await api<{ id: string; libraryId?: string | null }>(`/api/images/${encodeURIComponent(id)}/save`, { method: 'POST' });
  return saved.libraryId ?? saved.id;
}

/**
 * Appends a page to what is shown. Offset paging shifts when new work arrives between reads,
 * so an item may come again on the next page: it is shown once, where it first appeared.
 */
export function appendPage(shown: readonly HistoryItem[], incoming: readonly HistoryItem[]): HistoryItem[] {
  const seen = new Set(shown.map((item) => item.id));
  return [...shown, ...incoming.filter((item) => !seen.has(item.id))];
}

/** Whether another page may hold items: fewer shown than the total, and the last page was full. */
export function hasMore(shownCount: number, total: number, lastPageSize: number, perPage = PER_PAGE): boolean {
  return shownCount < total && lastPageSize >= perPage;
}

/** The picture a gallery tile shows: the thumbnail (a video's poster), else an image's original. */
export function tileSource(item: HistoryItem): string | undefined {
  if (item.thumbnailUrl) return item.thumbnailUrl;
  return item.type === 'video' ? undefined : item.imageUrl;
}

/** Width and height attributes for a tile image: the item's shape within a 256px thumbnail. */
export function tileSize(item: Pick<HistoryItem, 'width' | 'height'>, box = 256): { readonly width: number; readonly height: number } {
  const w = item.width > 0 ? item.width : box;
  const h = item.height > 0 ? item.height : box;
  const scale = box / Math.max(w, h);
  return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)) };
}
