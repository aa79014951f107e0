/**
 * End-to-end harness: Debian's Chromium driven by playwright-core (never a browser download)
 * against a real in-process Atelier server that serves the built web app from dist/web.
 *
 * One browser per test file (launching is the slow part), one fresh context per page so
 * localStorage and cookies never leak between tests. Every page records what went wrong in
 * it — console errors, uncaught exceptions, failed requests, HTTP errors — so a test can
 * assert that a flow ran cleanly, not just that the expected text appeared.
 *
 * Callbacks that run inside the page (page.evaluate, addInitScript) reach the DOM through
 * `globalThis as any`: the project typechecks against Node's types without the DOM library,
 * which would clash with them in server code.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startTestServer, type TestServer } from './test-server.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const WEB_INDEX = join(ROOT, 'dist', 'web', 'index.html');
export const SCREENSHOT_DIR = join(ROOT, 'test-results', 'screenshots');

// The machine has no internet: without these Chromium keeps trying to reach Google's services.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 375, height: 740 } as const;

/** Something that went wrong in a page: a console error, an exception, a failed or 4xx/5xx request. */
export interface PageProblem {
  readonly kind: 'console' | 'pageerror' | 'requestfailed' | 'http';
  readonly text: string;
}

export interface AppPage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Everything that went wrong so far, minus favicon noise. */
  readonly problems: PageProblem[];
  /**
   * The problems not matched by `allow` (e.g. an expected 401 or 404). Tests assert this is
   * empty: `expect(app.unexpectedProblems()).toEqual([])`.
   */
  unexpectedProblems(allow?: readonly RegExp[]): PageProblem[];
}

export interface OpenOptions {
  /** The API token put into the URL; default the server's admin token; `null` visits without one. */
  readonly token?: string | null;
  /** App path to open (the token rides along as `?token=`). Default `/`. */
  readonly path?: string;
  readonly viewport?: { readonly width: number; readonly height: number };
  /** Wait for the signed-in shell (default true when a token is given). */
  readonly waitForShell?: boolean;
}

export interface BrowserHarness {
  /** The file's Chromium (launched in beforeAll). */
  browser(): Browser;
  /** A new page in its own context, closed after the test. */
  newPage(viewport?: { readonly width: number; readonly height: number }): Promise<AppPage>;
  /** A new page that opened the app at `path` and, with a token, is signed in. */
  openApp(server: TestServer, options?: OpenOptions): Promise<AppPage>;
}

/**
 * Registers beforeAll/afterAll hooks that launch and close Chromium for this test file, and an
 * afterEach hook that closes the contexts the test opened. Call at the top of a test file.
 */
export function useBrowser(): BrowserHarness {
  let browser: Browser | undefined;
  const open: BrowserContext[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: the end-to-end tests drive Debian's Chromium (apt-get install chromium; .ci/run does it)`);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((context) => context.close()));
  });
  afterAll(async () => {
    await browser?.close();
  });

  const harness: BrowserHarness = {
    browser() {
      if (!browser) throw new Error('useBrowser(): Chromium is not launched yet (use it inside a test or hook)');
      return browser;
    },
    async newPage(viewport = DESKTOP) {
      const context = await harness.browser().newContext({ viewport: { ...viewport } });
      open.push(context);
      // Below the test timeout, so a missing element fails with Playwright's message (which
      // names the locator) rather than a bare test timeout.
      context.setDefaultTimeout(10_000);
      const page = await context.newPage();
      return { page, context, ...watchProblems(page) };
    },
    async openApp(server, options = {}) {
      const token = options.token === undefined ? server.adminToken : options.token;
      const app = await harness.newPage(options.viewport);
      const path = options.path ?? '/';
      await app.page.goto(`${server.url}${path}${token === null ? '' : `${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`}`);
      if (options.waitForShell ?? token !== null) await app.page.getByRole('button', { name: 'Sign out' }).waitFor();
      return app;
    },
  };
  return harness;
}

const IGNORED_URL = /\/favicon\.ico(\?|$)/;

function watchProblems(page: Page): Pick<AppPage, 'problems' | 'unexpectedProblems'> {
  const problems: PageProblem[] = [];
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    if (IGNORED_URL.test(message.location().url)) return;
    problems.push({ kind: 'console', text: message.text() });
  });
  page.on('pageerror', (error) => problems.push({ kind: 'pageerror', text: `${error.name}: ${error.message}` }));
  page.on('requestfailed', (request) => {
    const reason = request.failure()?.errorText ?? 'failed';
    // An aborted request is the app (or the media element) giving up on purpose: an SSE
    // stream closed on unmount, a video fetching a different byte range.
    if (IGNORED_URL.test(request.url()) || reason === 'net::ERR_ABORTED') return;
    problems.push({ kind: 'requestfailed', text: `${request.method()} ${request.url()}: ${reason}` });
  });
  page.on('response', (response) => {
    if (response.status() < 400 || IGNORED_URL.test(response.url())) return;
    problems.push({ kind: 'http', text: `${response.status()} ${response.request().method()} ${response.url()}` });
  });
  return {
    problems,
    unexpectedProblems: (allow = []) => problems.filter((p) => !allow.some((pattern) => pattern.test(p.text))),
  };
}

/**
 * A test server for the browser: the built-in preview renderer, random port, temp data dir.
 * Fails at once with the fix when the web app has not been built.
 */
export async function startAppServer(env: Record<string, string> = {}): Promise<TestServer> {
  if (!existsSync(WEB_INDEX)) throw new Error(`${WEB_INDEX} is missing: run \`npm run build\` before the end-to-end tests (npm test does)`);
  return startTestServer(env);
}

/**
 * A PNG of what the viewport shows (sticky bars where a person sees them) at
 * test-results/screenshots/<name>.png; `fullPage` captures the whole scroll height. Returns the path.
 */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: options.fullPage ?? false, animations: 'disabled' });
  return path;
}

/** True when the page scrolls sideways (a layout wider than the viewport). */
export async function overflowsHorizontally(page: Page): Promise<{ scrollWidth: number; innerWidth: number; overflows: boolean }> {
  return page.evaluate(() => {
    const w: any = globalThis;
    const scrollWidth: number = w.document.documentElement.scrollWidth;
    return { scrollWidth, innerWidth: w.innerWidth as number, overflows: scrollWidth > w.innerWidth };
  });
}

/**
 * Starts summing Cumulative Layout Shift in the page (shifts caused by user input excluded,
 * as the metric defines). Install before the content loads: `addInitScript` runs it in every
 * document of the context; read the sum with {@link readLayoutShift}.
 */
export async function trackLayoutShift(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const w: any = globalThis;
    w.__layoutShift = 0;
    w.__layoutShifts = [];
    new w.PerformanceObserver((list: any) => {
      for (const entry of list.getEntries() as { value: number; hadRecentInput: boolean; sources?: { node?: any }[] }[]) {
        if (entry.hadRecentInput) continue;
        w.__layoutShift += entry.value;
        w.__layoutShifts.push({ value: entry.value, nodes: (entry.sources ?? []).map((s) => (s.node?.outerHTML ? String(s.node.outerHTML).slice(0, 120) : String(s.node?.nodeName))) });
      }
    }).observe({ type: 'layout-shift', buffered: true });
  });
}

export async function readLayoutShift(page: Page): Promise<{ total: number; shifts: unknown[] }> {
  return page.evaluate(() => {
    const w: any = globalThis;
    return { total: w.__layoutShift as number, shifts: w.__layoutShifts as unknown[] };
  });
}
