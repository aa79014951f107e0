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

/** The collection named by the page's query (`?collection=library`); workspace otherwise. */
export function parseCollection(search: string): Collection {
  return new URLSearchParams(search).get('collection') === 'library' ? 'library' : 'workspace';
}

/** The app URL showing `collection` (workspace is the default, so it keeps the plain path). */
export function collectionHref(collection: Collection): string {
  return collection === 'library' ? '/history?collection=library' : '/history';
}

/** The API path of one page of the gallery: images and videos together, newest first. */
export function historyPath(collection: Collection, page: number, perPage = PER_PAGE): string {
  const query = new URLSearchParams({ type: 'all', collection, page: String(page), perPage: String(perPage) });
  return `/api/images/history?${query}`;
}

export function fetchHistoryPage(collection: Collection, page: number, signal?: AbortSignal): Promise<HistoryPage> {
  return api<HistoryPage>(historyPath(collection, page), { signal });
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
