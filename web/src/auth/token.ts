/**
 * The API token the browser signs in with. `npm start` prints a URL carrying it
 * (`/?token=…`): the token is moved from the URL into localStorage at once, so it does not
 * stay in the address bar, the history or a shared screenshot.
 */
const STORAGE_KEY = 'atelier.token';

export function takeTokenFromUrl(location: Location, history: History): void {
  const url = new URL(location.href);
  const token = url.searchParams.get('token');
  if (!token) return;
  saveToken(token);
  url.searchParams.delete('token');
  history.replaceState(history.state, '', url.pathname + (url.search === '?' ? '' : url.search) + url.hash);
}

export function readToken(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string): void {
  localStorage.setItem(STORAGE_KEY, token.trim());
}

export function clearToken(): void {
  localStorage.removeItem(STORAGE_KEY);
}
