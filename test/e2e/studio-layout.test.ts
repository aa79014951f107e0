import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { readLayoutShift, startAppServer, trackLayoutShift, useBrowser } from '../helpers/browser.js';
import type { TestServer } from '../helpers/test-server.js';
import { field, fillForm, generateViaApi, submitRun, waitForForm, waitForImagesLoaded, waitForResults } from './flows.js';
import { studioShot } from './studio-shots.js';

const b = useBrowser();
let server: TestServer;

const WIDE = { width: 1440, height: 900 } as const;
const PHONE = { width: 390, height: 844 } as const;

// Runs already made, so the queue has entries to list (and pictures to load) on arrival.
beforeAll(async () => {
  server = await startAppServer();
  await generateViaApi(server, { prompt: 'an earlier run', num_images: 2 });
  await generateViaApi(server, { prompt: 'another earlier run' });
});
afterAll(async () => {
  await server?.close();
});

interface Box {
  readonly top: number;
  readonly bottom: number;
}

/** The focused element's box, and the sticky bars' (top bar bottom edge, footer top edge). */
async function focusGeometry(page: Page): Promise<{ name: string; box: Box; headerBottom: number; footerTop: number; inFooter: boolean; inForm: boolean }> {
  return page.evaluate(() => {
    const d = (globalThis as any).document;
    const el = d.activeElement;
    const rect = el.getBoundingClientRect();
    const footer = d.querySelector('.gen-actions');
    return {
      name: `${el.tagName} ${el.getAttribute('aria-label') ?? el.id ?? ''} ${(el.textContent ?? '').trim().slice(0, 20)}`,
      box: { top: rect.top, bottom: rect.bottom },
      headerBottom: d.querySelector('.topbar').getBoundingClientRect().bottom,
      footerTop: footer.getBoundingClientRect().top,
      inFooter: footer.contains(el),
      inForm: !!el.closest('.gen-form'),
    };
  });
}

/** Tabs through the whole settings form; every control it stops on is in view between the sticky bars. */
async function tabThroughForm(page: Page): Promise<number> {
  await field(page, 'Prompt').focus();
  let checked = 0;
  for (let presses = 0; presses < 80; presses++) {
    const at = await focusGeometry(page);
    if (!at.inForm || at.inFooter) break;
    const room = at.footerTop - at.headerBottom;
    expect(at.box.top, at.name).toBeGreaterThanOrEqual(at.headerBottom - 1);
    // A control taller than the room between the bars shows its top; any other, all of it.
    if (at.box.bottom - at.box.top <= room) expect(at.box.bottom, at.name).toBeLessThanOrEqual(at.footerTop + 1);
    else expect(at.box.top, at.name).toBeLessThan(at.footerTop);
    checked += 1;
    await page.keyboard.press('Tab');
  }
  return checked;
}

describe('the studio layout', () => {
  for (const [name, viewport] of [['1440×900', WIDE], ['390×844', PHONE]] as const) {
    it(`focus never hides under the sticky footer or the top bar (${name})`, async () => {
      const { page, unexpectedProblems } = await b.openApp(server, { viewport });
      await waitForForm(page);
      // Image to image has the most controls (reference, denoise, guidance, ControlNet…).
      await page.getByRole('tab', { name: 'Image to image' }).click();
      await field(page, 'Reference image').waitFor({ state: 'attached' });
      expect(await page.evaluate((): number => (globalThis as any).document.documentElement.scrollWidth)).toBeLessThanOrEqual(viewport.width);
      expect(await tabThroughForm(page)).toBeGreaterThan(12);
      expect(unexpectedProblems()).toEqual([]);
    });
  }

  it('nothing moves while Generate loads (CLS < 0.02), fresh and with a studio to restore, wide and on a phone', async () => {
    for (const [restore, viewport] of [[false, WIDE], [true, WIDE], [false, PHONE]] as const) {
      const app = await b.newPage(viewport);
      await trackLayoutShift(app.context);
      if (restore) {
        // A studio with a finished run shown, then a fresh document on it.
        await app.page.goto(`${server.url}/?token=${server.adminToken}`);
        await waitForForm(app.page);
        await fillForm(app.page, { Prompt: 'a run to come back to', Steps: 3, 'Number of images': 2 });
        await waitForResults(app.page, server, (await submitRun(app.page)).runId);
        await app.page.reload();
      } else {
        await app.page.goto(`${server.url}/?token=${server.adminToken}`);
      }
      const { page } = app;
      await waitForForm(page);
      // Everything the screen loads after the first paint: models, schema-checked estimate, the queue's runs and pictures.
      await expect.poll(() => page.getByTestId('cost-estimate').getAttribute('data-source')).toBe('server');
      await expect.poll(() => page.getByTestId('run-item').count()).toBeGreaterThanOrEqual(2);
      // The queue's thumbnails in view have loaded (those below the fold wait, lazily).
      await expect
        .poll(() =>
          page
            .getByTestId('run-queue')
            .locator('img')
            .evaluateAll((imgs: any[]) => imgs.filter((i) => i.getBoundingClientRect().top < (globalThis as any).innerHeight).every((i) => i.complete && i.naturalWidth > 0)),
        )
        .toBe(true);
      if (restore) await waitForImagesLoaded(page.getByTestId('variant-grid'));
      const { total, shifts } = await readLayoutShift(page);
      expect(total, JSON.stringify(shifts)).toBeLessThan(0.02);
      expect(app.unexpectedProblems()).toEqual([]);
    }
  });

  it('a dark theme option, kept across reloads, following the system until chosen', async () => {
    const background = (page: Page) => page.evaluate((): string => (globalThis as any).getComputedStyle((globalThis as any).document.body).backgroundColor);
    const toggle = (page: Page) => page.getByRole('button', { name: 'Dark theme' });

    const light = await b.newPage(WIDE);
    await light.page.emulateMedia({ colorScheme: 'light' });
    await light.page.goto(`${server.url}/?token=${server.adminToken}`);
    await waitForForm(light.page);
    expect(await toggle(light.page).getAttribute('aria-pressed')).toBe('false');
    expect(await background(light.page)).toBe('rgb(246, 246, 244)');
    await toggle(light.page).click();
    await expect.poll(() => background(light.page)).toBe('rgb(18, 18, 17)');
    expect(await toggle(light.page).getAttribute('aria-pressed')).toBe('true');
    await light.page.reload();
    await waitForForm(light.page);
    expect(await background(light.page)).toBe('rgb(18, 18, 17)');
    expect(await toggle(light.page).getAttribute('aria-pressed')).toBe('true');
    await studioShot(light.page, 'generate-dark-1440');

    // A system in dark mode, nothing chosen: dark, and the toggle says so.
    const dark = await b.newPage(WIDE);
    await dark.page.emulateMedia({ colorScheme: 'dark' });
    await dark.page.goto(`${server.url}/?token=${server.adminToken}`);
    await waitForForm(dark.page);
    expect(await background(dark.page)).toBe('rgb(18, 18, 17)');
    expect(await toggle(dark.page).getAttribute('aria-pressed')).toBe('true');
    await toggle(dark.page).click();
    await expect.poll(() => background(dark.page)).toBe('rgb(246, 246, 244)');
    expect(light.unexpectedProblems()).toEqual([]);
    expect(dark.unexpectedProblems()).toEqual([]);
  });

  it('the run queue and results at phone width (390×844) fit without sideways scrolling', async () => {
    const { page, unexpectedProblems } = await b.openApp(server, { viewport: PHONE });
    await waitForForm(page);
    await fillForm(page, { Prompt: 'a lighthouse on a phone', Steps: 3, 'Number of images': 2 });
    const run = await submitRun(page);
    await waitForResults(page, server, run.runId);
    await waitForImagesLoaded(page.getByTestId('variant-grid'));
    const width = () => page.evaluate((): number => (globalThis as any).document.documentElement.scrollWidth);
    expect(await width()).toBeLessThanOrEqual(PHONE.width);
    await page.getByTestId('run-queue').scrollIntoViewIfNeeded();
    await studioShot(page, 'run-queue-390');
    expect(unexpectedProblems()).toEqual([]);
  });
});
