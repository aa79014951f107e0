/**
 * What the detail page knows about the gallery it was opened from, for the tab's session:
 * the gallery URL ("Back to History" and Escape return there, collection included) and the
 * ids in the order shown (the left/right arrow keys step through them).
 */
const PATH_KEY = 'atelier.history-return';
const IDS_KEY = 'atelier.history-ids';

function store(): Storage | undefined {
  try {
    return sessionStorage;
  } catch {
    return undefined; // storage refused (private mode): plain /history and no stepping
  }
}

export function rememberHistoryPath(path: string): void {
  store()?.setItem(PATH_KEY, path);
}

export function historyReturnPath(): string {
  const path = store()?.getItem(PATH_KEY);
  return path && path.startsWith('/history') ? path : '/history';
}

export function rememberGalleryOrder(ids: readonly string[]): void {
  store()?.setItem(IDS_KEY, JSON.stringify(ids));
}

/** The items before (newer) and after (older) `id` in the gallery last shown, if it was there. */
export function neighbours(id: string): { readonly newer?: string; readonly older?: string } {
  let ids: unknown;
  try {
    ids = JSON.parse(store()?.getItem(IDS_KEY) ?? '[]');
  } catch {
    return {};
  }
  if (!Array.isArray(ids)) return {};
  const index = ids.indexOf(id);
  if (index < 0) return {};
  const at = (i: number) => (typeof ids[i] === 'string' ? (ids[i] as string) : undefined);
  return { newer: at(index - 1), older: at(index + 1) };
}
