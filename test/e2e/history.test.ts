import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page, Route } from 'playwright-core';
import { apiClient } from '../helpers/api.js';
import { overflowsHorizontally, readLayoutShift, screenshot, startAppServer, trackLayoutShift, useBrowser } from '../helpers/browser.js';
import type { TestServer } from '../helpers/test-server.js';
import { adminApi } from './flows.js';
import { studioShot } from './studio-shots.js';

const b = useBrowser();
let server: TestServer;
/** Every gallery item id, newest first, as the API lists them. */
let newestFirst: string[];
let videoId: string;

const JOBS = 7;
const PER_JOB = 8;
const PAGE_SIZE = 24; // web/src/features/history/history-api.ts PER_PAGE

// More than two pages of work, made quickly over the API (tiny images, one step), one job
// after another so their order is known; a short video last, so it is the newest item.
beforeAll(async () => {
  server = await startAppServer();
  const api = adminApi(server);
  for (let job = 1; job <= JOBS; job++) await api.generate({ prompt: `batch ${job} of tiny tiles`, width: 64, height: 64, steps: 1, num_images: PER_JOB });
  const video = await api.post('/api/generate/text-to-video', { prompt: 'a spinning top', model: 'preview-t2v', width: 128, height: 72, steps: 1, num_frames: 4, fps: 4 });
  expect(video.status, video.text).toBe(202);
  const done = await api.waitFor(video.body.runId, undefined, 30_000);
  expect(done.status).toBe('succeeded');
  videoId = done.assets[0].id;
  const all = await api.get(`/api/images/history?type=all&perPage=100`);
  newestFirst = all.body.images.map((item: any) => item.id);
  expect(newestFirst).toHaveLength(JOBS * PER_JOB + 1);
}, 60_000);
afterAll(async () => {
  await server?.close();
});

/** The ids the gallery links to, in page order. */
const shownIds = (page: Page) =>
  page
    .getByTestId('gallery')
    .getByRole('link')
    .evaluateAll((links: any[]) => links.map((a): string => decodeURIComponent(new URL(a.href).pathname.replace('/images/', ''))));

/** Waits until the gallery's pictures in the viewport have loaded (lazy ones below it are never asked for). */
async function picturesInView(page: Page): Promise<void> {
  const gallery = page.getByTestId('gallery');
  await gallery.locator('img').first().waitFor();
  await expect
    .poll(() => gallery.locator('img').evaluateAll((imgs: any[]) => imgs.filter((i) => i.getBoundingClientRect().top < (globalThis as any).innerHeight).every((i) => i.complete && i.naturalWidth > 0)))
    .toBe(true);
}

describe('history', () => {
  it('shows the newest first, a page at a time with "Load more", videos with a poster and badge', async () => {
    const app = await b.newPage();
    // Without IntersectionObserver nothing pages by itself: only the button does.
    await app.context.addInitScript(() => {
      delete (globalThis as any).IntersectionObserver;
    });
    await app.page.goto(`${server.url}/history?token=${server.adminToken}`);
    const { page } = app;
    const gallery = page.getByTestId('gallery');
    await gallery.waitFor();
    await expect.poll(() => shownIds(page)).toEqual(newestFirst.slice(0, PAGE_SIZE));

    // The newest item is the video: its poster and a "Video" badge.
    const first = gallery.getByRole('link').first();
    expect(await first.getAttribute('href')).toBe(`/images/${videoId}`);
    await first.getByText('Video', { exact: true }).waitFor();
    await expect.poll(() => first.locator('img').evaluate((img: any) => img.naturalWidth as number)).toBeGreaterThan(0);
    // The oldest batch is not on the first page; the newest is.
    await gallery.getByText('batch 7 of tiny tiles').first().waitFor();
    await expect(gallery.getByText('batch 1 of tiny tiles').count()).resolves.toBe(0);
    await screenshot(page, 'history');

    await page.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => shownIds(page)).toEqual(newestFirst.slice(0, 2 * PAGE_SIZE));
    await page.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => shownIds(page)).toEqual(newestFirst);
    // Everything shown: no more button.
    await expect.poll(() => page.getByRole('button', { name: 'Load more' }).count()).toBe(0);
    await gallery.getByText('batch 1 of tiny tiles').first().waitFor();
    expect(app.unexpectedProblems()).toEqual([]);
  });

  it('scrolling down loads older work until everything is shown, each item once', async () => {
    const { page, unexpectedProblems } = await b.openApp(server, { path: '/history' });
    await page.getByTestId('gallery').waitFor();
    for (let round = 0; round < 10 && (await shownIds(page)).length < newestFirst.length; round++) {
      const before = (await shownIds(page)).length;
      await page.mouse.wheel(0, 100_000);
      await expect.poll(async () => (await shownIds(page)).length, { timeout: 10_000 }).toBeGreaterThan(before);
    }
    expect(await shownIds(page)).toEqual(newestFirst);
    expect(unexpectedProblems()).toEqual([]);
  });

  it('nothing moves while the thumbnails load (CLS < 0.1)', async () => {
    const app = await b.newPage();
    await trackLayoutShift(app.context);
    // Hold every picture until the gallery is laid out, then let them all in at once: the
    // worst case for layout shift, made deterministic.
    const held: Route[] = [];
    let release = false;
    await app.page.route(/\/media\//, async (route) => {
      if (release) await route.continue();
      else held.push(route);
    });
    await app.page.goto(`${server.url}/history?token=${server.adminToken}`);
    const gallery = app.page.getByTestId('gallery');
    await gallery.waitFor();
    await expect.poll(() => shownIds(app.page)).toEqual(newestFirst.slice(0, PAGE_SIZE));
    await expect.poll(() => held.length).toBeGreaterThan(0);
    const before = await gallery.getByRole('link').first().boundingBox();
    release = true;
    await Promise.all(held.splice(0).map((route) => route.continue()));
    // Pictures in view have loaded (lazy ones below the fold may not have been asked for).
    await expect
      .poll(() => gallery.locator('img').evaluateAll((imgs: any[]) => imgs.filter((i) => i.getBoundingClientRect().top < (globalThis as any).innerHeight).every((i) => i.complete && i.naturalWidth > 0)))
      .toBe(true);
    expect(await gallery.getByRole('link').first().boundingBox()).toEqual(before);
    const { total, shifts } = await readLayoutShift(app.page);
    expect(total, JSON.stringify(shifts)).toBeLessThan(0.1);
    expect(app.unexpectedProblems()).toEqual([]);
  });

  it('the Library collection starts empty and is reachable by arrow keys', async () => {
    const { page, unexpectedProblems } = await b.openApp(server, { path: '/history' });
    const workspace = page.getByRole('radiogroup', { name: 'Collection' }).getByRole('radio', { name: 'Workspace' });
    await page.getByTestId('gallery').waitFor();
    expect(await workspace.getAttribute('aria-checked')).toBe('true');
    await workspace.focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.getByRole('radio', { name: 'Library' }).getAttribute('aria-checked')).toBe('true');
    await page.getByText('Nothing here yet').waitFor();
    await expect(page.getByTestId('gallery').count()).resolves.toBe(0);
    expect(unexpectedProblems()).toEqual([]);
  });

  it('finds work by its prompt: the search narrows the gallery, stays in the URL and survives a reload', async () => {
    const { page, unexpectedProblems } = await b.openApp(server, { path: '/history' });
    await expect.poll(() => shownIds(page)).toEqual(newestFirst.slice(0, PAGE_SIZE));
    const search = page.getByRole('searchbox', { name: 'Search prompts' });
    await search.fill('BATCH 3 of');
    const batch3 = (await adminApi(server).get('/api/images/history?q=batch%203%20of&perPage=100')).body.images.map((item: any) => item.id);
    expect(batch3).toHaveLength(PER_JOB);
    await expect.poll(() => shownIds(page)).toEqual(batch3);
    await page.getByText(`${PER_JOB} items matching “BATCH 3 of”`).waitFor();
    expect(new URL(page.url()).searchParams.get('q')).toBe('BATCH 3 of');

    await page.reload();
    await expect.poll(() => shownIds(page)).toEqual(batch3);
    expect(await page.getByRole('searchbox', { name: 'Search prompts' }).inputValue()).toBe('BATCH 3 of');

    await page.getByRole('searchbox', { name: 'Search prompts' }).fill('no such words');
    await page.getByText('No prompts contain “no such words”').waitFor();
    expect(unexpectedProblems()).toEqual([]);
  });

  it('says how long a workspace item has left, and saves it to the library from the grid', async () => {
    const saver = await server.addUser('saver');
    const api = apiClient(server, saver.token);
    const run = await api.generate({ prompt: 'a keeper worth saving', width: 64, height: 64, steps: 1, num_images: 2 });
    const [first, second] = run.assets.map((asset: any) => asset.id);
    const { page, unexpectedProblems } = await b.openApp(server, { token: saver.token, path: '/history' });
    const tile = (id: string) => page.getByTestId('gallery').getByRole('listitem').filter({ has: page.locator(`a[href="/images/${id}"]`) });
    // Made just now with the default 24 h workspace retention.
    await tile(first).getByText('expires in 23 h').waitFor();
    await tile(second).getByText('expires in 23 h').waitFor();

    await tile(first).getByRole('button', { name: 'Save to library: a keeper worth saving' }).click();
    await tile(first).getByText('Saved to library').waitFor();
    await expect(tile(first).getByText(/expires in/).count()).resolves.toBe(0);
    await expect(tile(second).getByRole('button', { name: /Save to library/ }).count()).resolves.toBe(1);
    const library = (await api.get('/api/images/history?collection=library')).body.images;
    expect(library).toHaveLength(1);
    expect((await api.get(`/api/images/${first}`)).body.libraryId).toBe(library[0].id);

    // A reload still knows it is saved; the library shows the copy, with no save button.
    await page.reload();
    await tile(first).getByText('Saved to library').waitFor();
    await page.getByRole('radio', { name: 'Library' }).click();
    await expect.poll(() => shownIds(page)).toEqual([library[0].id]);
    await expect(page.getByTestId('gallery').getByRole('button').count()).resolves.toBe(0);
    expect(unexpectedProblems()).toEqual([]);
  });

  it('fits a phone (390 × 844) without sideways scrolling, search and save included', async () => {
    const { page, unexpectedProblems } = await b.openApp(server, { path: '/history', viewport: { width: 390, height: 844 } });
    await picturesInView(page);
    await page.getByRole('searchbox', { name: 'Search prompts' }).waitFor();
    expect(await overflowsHorizontally(page)).toMatchObject({ overflows: false });
    await studioShot(page, 'history-390x844');
    const desktop = await b.openApp(server, { path: '/history', viewport: { width: 1440, height: 900 } });
    await picturesInView(desktop.page);
    await studioShot(desktop.page, 'history-1440x900');
    await desktop.page.emulateMedia({ colorScheme: 'dark' });
    await studioShot(desktop.page, 'history-1440x900-dark');
    expect(unexpectedProblems()).toEqual([]);
    expect(desktop.unexpectedProblems()).toEqual([]);
  });
});
