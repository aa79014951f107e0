/**
 * Where "Back to History" (and Escape on a detail page) returns: the gallery URL last shown,
 * with its collection, remembered for the tab's session.
 */
const KEY = 'atelier.history-return';

export function rememberHistoryPath(path: string): void {
  try {
    sessionStorage.setItem(KEY, path);
  } catch {
    // Storage refused (private mode): the plain /history is fine.
  }
}

export function historyReturnPath(): string {
  try {
    const path = sessionStorage.getItem(KEY);
    return path && path.startsWith('/history') ? path : '/history';
  } catch {
    return '/history';
  }
}
