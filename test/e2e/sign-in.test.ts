import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot, startAppServer, useBrowser } from '../helpers/browser.js';
import type { TestServer } from '../helpers/test-server.js';

const b = useBrowser();
let server: TestServer;

beforeAll(async () => {
  server = await startAppServer();
});
afterAll(async () => {
  await server?.close();
});

// The bad token's `GET /api/me` answers 401 on purpose; Chromium logs it as a console error.
const EXPECTED_401 = [/401/];

describe('sign-in', () => {
  it('without a token shows a clear sign-in prompt', async () => {
    const { page, unexpectedProblems } = await b.openApp(server, { token: null });
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await expect(page.getByLabel('API token').isVisible()).resolves.toBe(true);
    // Nothing to sign in with yet: the button waits for a token.
    await expect(page.getByRole('button', { name: 'Sign in' }).isDisabled()).resolves.toBe(true);
    await expect(page.getByRole('navigation').count()).resolves.toBe(0);
    await screenshot(page, 'sign-in');
    expect(unexpectedProblems()).toEqual([]);
  });

  it('a bad token is refused with an alert and stays signed out', async () => {
    const { page, unexpectedProblems } = await b.openApp(server, { token: null });
    await page.getByLabel('API token').fill('not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/not accepted/i);
    await expect(page.getByRole('heading', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
    expect(await page.evaluate((): string | null => (globalThis as any).localStorage.getItem('atelier.token'))).toBeNull();
    await screenshot(page, 'sign-in-refused');
    expect(unexpectedProblems(EXPECTED_401)).toEqual([]);
  });

  it('a bad token in the URL is refused the same way', async () => {
    const { page, unexpectedProblems } = await b.openApp(server, { token: 'wrong', waitForShell: false });
    await page.getByRole('alert').waitFor();
    await expect(page.getByRole('heading', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
    expect(new URL(page.url()).searchParams.has('token')).toBe(false);
    expect(unexpectedProblems(EXPECTED_401)).toEqual([]);
  });

  it('the ?token= URL signs in and the token leaves the address bar', async () => {
    const { page, unexpectedProblems } = await b.openApp(server, { path: '/history' });
    const url = new URL(page.url());
    expect(url.pathname).toBe('/history');
    expect(url.search).toBe('');
    expect(page.url()).not.toContain(server.adminToken);
    expect(await page.evaluate((): string | null => (globalThis as any).localStorage.getItem('atelier.token'))).toBe(server.adminToken);
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const name of ['Generate', 'History', 'Admin']) await expect(nav.getByRole('link', { name }).isVisible()).resolves.toBe(true);
    // The token survives a reload (it is in localStorage, not the URL).
    await page.reload();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    expect(unexpectedProblems()).toEqual([]);
  });

  it('pasting a token signs in; Sign out returns to the prompt and forgets it', async () => {
    const { page, unexpectedProblems } = await b.openApp(server, { token: null });
    await page.getByLabel('API token').fill(server.adminToken);
    await page.getByLabel('API token').press('Enter');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate((): string | null => (globalThis as any).localStorage.getItem('atelier.token'))).toBeNull();
    expect(unexpectedProblems()).toEqual([]);
  });

  it('a user who is not an admin gets no Admin link', async () => {
    const alice = await server.addUser('alice');
    const { page, unexpectedProblems } = await b.openApp(server, { token: alice.token });
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link', { name: 'History' }).isVisible()).resolves.toBe(true);
    await expect(nav.getByRole('link', { name: 'Admin' }).count()).resolves.toBe(0);
    expect(unexpectedProblems()).toEqual([]);
  });
});
