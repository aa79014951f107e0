/**
 * An automated accessibility audit of every playground screen with axe-core (the engine,
 * injected into the page; no browser download): WCAG 2.1 A and AA rules, in the light and the
 * dark theme, at 1440×900, and Generate and History on a phone too. A violation fails with
 * its rule, impact, help text and the elements it was found on.
 *
 * One server for the file; the runs it shows are made over the API, small and quick. What axe
 * cannot decide by itself (text over a picture, an element under a sticky bar) is not a
 * failure; `AXE_REVIEW=1` prints it for a person to check.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBrowser } from '../helpers/browser.js';
import { createHeldBackend, HELD_MODEL, heldServerOptions } from '../helpers/held-backend.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { adminApi, generateViaApi, waitForForm, waitForImagesLoaded } from './flows.js';
import { queueStatus } from './studio-flows.js';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

const WEB_INDEX = fileURLToPath(new URL('../../dist/web/index.html', import.meta.url));
/** A small run on the held model. */
const HELD = { model: HELD_MODEL, width: 256, height: 256, steps: 2 } as const;
const WIDE = { width: 1440, height: 900 } as const;
const PHONE = { width: 390, height: 844 } as const;
const THEMES = ['light', 'dark'] as const;
type Theme = (typeof THEMES)[number];

const b = useBrowser();
let server: TestServer;
/** Runs on model `held` wait (shown as running) until released: a queue without burning CPU. */
const held = createHeldBackend();
/** A finished run of three small pictures, the newest work of the admin. */
let run: any;

// Work of every kind, for the queue and the jobs table: a run that failed, one canceled, two
// finished (the newest, of three pictures, is the one the screens show).
beforeAll(async () => {
  if (!existsSync(WEB_INDEX)) throw new Error(`${WEB_INDEX} is missing: run \`npm run build\` first`);
  server = await startTestServer({ MAX_ATTEMPTS: '1' }, heldServerOptions(held));
  const api = adminApi(server);
  held.failNext('the held backend failed this one on purpose');
  expect((await api.waitFor((await api.submit({ ...HELD, prompt: 'a run that failed' })).runId)).status).toBe('failed');
  const canceled = (await api.submit({ ...HELD, prompt: 'a run canceled on the way' })).runId;
  await held.waitForStarted(2);
  expect((await api.post(`/api/runs/${canceled}/cancel`)).status).toBe(200);
  expect((await api.waitFor(canceled)).status).toBe('canceled');
  await generateViaApi(server, { prompt: 'an older run of a harbour at dawn', num_images: 2 });
  run = await generateViaApi(server, { prompt: 'a lighthouse on a cliff, three ways', num_images: 3, width: 320, height: 256 });
}, 30_000);
afterAll(async () => {
  held.release();
  await server?.close();
});

interface AxeNode {
  target: unknown[];
  failureSummary?: string;
}
interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: AxeNode[];
}

/**
 * The fields whose placeholder (a text, so 4.5:1 like any other) is too faint on the field's
 * background: axe leaves placeholders out. Returns "selector: ratio" for each.
 */
async function placeholderContrast(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const w: any = globalThis;
    const rgb = (css: string) => (css.match(/[\d.]+/g) ?? []).map(Number);
    const luminance = ([r, g, b]: number[]) => {
      const [R, G, B] = [r!, g!, b!].map((v) => v / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
      return 0.2126 * R! + 0.7152 * G! + 0.0722 * B!;
    };
    const failing: string[] = [];
    for (const field of w.document.querySelectorAll('input[placeholder], textarea[placeholder]')) {
      if (field.value !== '' || field.getClientRects().length === 0) continue;
      const background = rgb(w.getComputedStyle(field).backgroundColor);
      const placeholder = w.getComputedStyle(field, '::placeholder');
      const text = rgb(placeholder.color);
      // Only an opaque field and an opaque placeholder colour: the ratio is then exact.
      if ((background[3] ?? 1) < 1 || (text[3] ?? 1) < 1 || Number(placeholder.opacity) < 1) continue;
      const [hi, lo] = [luminance(text), luminance(background)].sort((a, b) => b - a);
      const ratio = (hi! + 0.05) / (lo! + 0.05);
      if (ratio < 4.5) failing.push(`${field.tagName.toLowerCase()}[placeholder="${field.getAttribute('placeholder')}"]: ${ratio.toFixed(2)}`);
    }
    return failing;
  });
}

/** What a violation says, one line per failing element (its selector and why it fails). */
function describeViolations(violations: readonly AxeViolation[]): string {
  return violations
    .map((v) => {
      const nodes = v.nodes.map((n) => `    ${JSON.stringify(n.target)}: ${(n.failureSummary ?? '').replace(/\s+/g, ' ').trim()}`);
      return `  ${v.id} (${v.impact}): ${v.help}\n${nodes.join('\n')}`;
    })
    .join('\n');
}

/**
 * Runs axe in the page (WCAG 2.1 A/AA rules only) and asserts there is no violation. axe is
 * evaluated in the page rather than added as a <script>: the server's Content-Security-Policy
 * refuses inline scripts, as it should.
 */
async function audit(page: Page, screen: string): Promise<void> {
  // Let transitions (hover/focus fades, the viewer's backdrop) end: axe reads computed colours.
  await page.evaluate(() => new Promise((resolve) => (globalThis as any).requestAnimationFrame(() => setTimeout(resolve, 250))));
  if (!(await page.evaluate(() => typeof (globalThis as any).axe === 'object'))) await page.evaluate(AXE_SOURCE);
  const { violations, incomplete, passed }: { violations: AxeViolation[]; incomplete: AxeViolation[]; passed: string[] } = await page.evaluate(async (tags) => {
    const result = await (globalThis as any).axe.run((globalThis as any).document, { runOnly: { type: 'tag', values: tags } });
    const brief = (v: any) => ({ id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl, nodes: v.nodes.map((n: any) => ({ target: n.target, failureSummary: n.failureSummary })) });
    return { violations: result.violations.map(brief), incomplete: result.incomplete.map(brief), passed: result.passes.map((p: any) => p.id as string) };
  }, WCAG_21_AA);
  // axe really looked (with a modal viewer open it looks only inside it, as the rest is inert).
  const applied = new Set([...passed, ...violations.map((v) => v.id), ...incomplete.map((v) => v.id)]);
  expect(applied.has('color-contrast') && applied.size >= 10, `${screen}: axe applied only ${[...applied].join(', ')}`).toBe(true);
  expect(await placeholderContrast(page), `${screen}: placeholder text below 4.5:1 (axe does not look at placeholders)`).toEqual([]);
  if (process.env.AXE_REVIEW) console.log(`${screen}: axe could not decide (check by hand)\n${describeViolations(incomplete)}`);
  expect(violations.map((v) => v.id), `${screen}: ${violations.length} axe violation(s)\n${describeViolations(violations)}`).toEqual([]);
}

/**
 * One page for a group of tests, in `theme` (the system's colour scheme, which the app follows
 * until one is chosen), kept from test to test: opening a context per screen would double the
 * file's time. `visit` opens a path in it, signing in with `token` when given.
 */
function sharedPage(theme: Theme, viewport: { width: number; height: number } = WIDE) {
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  beforeAll(async () => {
    context = await b.browser().newContext({ viewport: { ...viewport }, colorScheme: theme });
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
  });
  afterAll(async () => {
    await context?.close();
  });
  return async function visit(path: string, token?: string): Promise<Page> {
    if (!page) throw new Error('sharedPage: no page yet (use it inside a test)');
    await page.goto(`${server.url}${path}${token === undefined ? '' : `${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`}`);
    // The theme took: the page's background is light or dark.
    const background = await page.evaluate(() => (globalThis as any).getComputedStyle((globalThis as any).document.body).backgroundColor as string);
    const [r, g, bl] = background.match(/\d+/g)!.map(Number);
    expect((r! + g! + bl!) / 3 > 128 ? 'light' : 'dark').toBe(theme);
    return page;
  };
}

const signedIn = (page: Page) => page.getByRole('button', { name: 'Sign out' }).waitFor();

async function showResults(page: Page): Promise<void> {
  await signedIn(page);
  await waitForImagesLoaded(page.getByTestId('variant-grid'));
}

async function showHistory(page: Page): Promise<void> {
  await page.getByTestId('gallery').locator('img').first().waitFor();
  await page.getByText(/^\d+ items$/).waitFor();
}

describe.each(THEMES)('accessibility, %s theme, 1440×900', (theme) => {
  const guest = sharedPage(theme);
  const visit = sharedPage(theme);
  beforeAll(async () => {
    await (await visit('/', server.adminToken)).getByRole('button', { name: 'Sign out' }).waitFor();
  });

  it('sign-in', async () => {
    const page = await guest('/');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await audit(page, `sign-in (${theme})`);
  });

  it('Generate, empty', async () => {
    // A user with no runs yet: the queue is empty too.
    const newcomer = await server.addUser(`newcomer-${theme}`);
    const page = await guest('/', newcomer.token);
    await signedIn(page);
    await waitForForm(page);
    await page.getByText('Runs you start appear here').waitFor();
    await audit(page, `Generate, empty (${theme})`);
  });

  it('Generate, a finished run on the canvas', async () => {
    const page = await visit(`/generate?run=${run.runId}`);
    await showResults(page);
    await audit(page, `Generate with results (${theme})`);
  });

  it('Generate, the viewer open', async () => {
    const page = await visit(`/generate?run=${run.runId}`);
    await showResults(page);
    await page.getByRole('button', { name: 'View result 1' }).click();
    const viewer = page.getByTestId('lightbox');
    await viewer.getByRole('img', { name: 'Result 1, full size' }).waitFor();
    await waitForImagesLoaded(viewer);
    await audit(page, `Generate, viewer open (${theme})`);
  });

  it("an image's detail page", async () => {
    const page = await visit(`/images/${encodeURIComponent(run.assets[0].id)}`);
    await page.getByTestId('asset-detail').waitFor();
    await waitForImagesLoaded(page.locator('.media-frame'));
    await audit(page, `detail page (${theme})`);
  });

  it("an image's detail page: saved to the library, the delete confirmation open", async () => {
    // Another picture of the run for each theme: saving is for good.
    const asset = run.assets.find((a: any) => a.index === (theme === 'light' ? 1 : 2));
    const page = await visit(`/images/${encodeURIComponent(asset.id)}`);
    await page.getByRole('button', { name: 'Save to library' }).click();
    await page.locator('.saved-note').waitFor();
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('dialog', { name: 'Delete this image?' }).waitFor();
    await audit(page, `detail page, saved, confirming delete (${theme})`);
  });

  it('History, the workspace with items', async () => {
    const page = await visit('/history');
    await showHistory(page);
    // With the pictures saved above, whose tiles say so in the status colour.
    await page.getByText('Saved to library').first().waitFor();
    await audit(page, `History (${theme})`);
  });

  it('History, a search with no match', async () => {
    const page = await visit('/history?q=zeppelin');
    await page.getByText('No prompts contain “zeppelin”').waitFor();
    await audit(page, `History, no match (${theme})`);
  });
});

// Runs in flight: one held at the backend (running), one waiting behind it. Canceled afterwards.
describe.each(THEMES)('accessibility while runs are in flight, %s theme, 1440×900', (theme) => {
  const visit = sharedPage(theme);
  let rendering: string;
  let waiting: string;
  beforeAll(async () => {
    const api = adminApi(server);
    rendering = (await api.submit({ ...HELD, prompt: 'a held render of a stormy sea' })).runId;
    await api.waitFor(rendering, (view) => view.status === 'running');
    waiting = (await api.submit({ ...HELD, prompt: 'a queued run of a quiet bay' })).runId;
  });
  afterAll(async () => {
    const api = adminApi(server);
    for (const runId of [waiting, rendering]) await api.post(`/api/runs/${runId}/cancel`);
    for (const runId of [waiting, rendering]) await api.waitFor(runId);
  });

  it('Generate, the run queue holding runs', async () => {
    const page = await visit(`/generate?run=${run.runId}`, server.adminToken);
    await showResults(page);
    await expect.poll(() => queueStatus(page, rendering)).toBe('running');
    expect(await queueStatus(page, waiting)).toBe('queued');
    await audit(page, `Generate, run queue (${theme})`);
  });

  it('Admin: jobs table and users', async () => {
    const page = await visit('/admin');
    await page.locator(`[data-testid="job-row"][data-job-id="${rendering}"]`).waitFor();
    await page.getByTestId('user-row').first().waitFor();
    await page.getByRole('heading', { name: 'Backend health' }).waitFor();
    await audit(page, `Admin (${theme})`);
  });
});

describe.each(THEMES)('accessibility, %s theme, phone 390×844', (theme) => {
  const visit = sharedPage(theme, PHONE);

  it('Generate, a finished run on the canvas', async () => {
    const page = await visit(`/generate?run=${run.runId}`, server.adminToken);
    await showResults(page);
    await audit(page, `Generate, phone (${theme})`);
  });

  it('History, the workspace with items', async () => {
    const page = await visit('/history');
    await showHistory(page);
    await audit(page, `History, phone (${theme})`);
  });
});
