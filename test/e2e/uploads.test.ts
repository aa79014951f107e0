import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { overflowsHorizontally, startAppServer, useBrowser } from '../helpers/browser.js';
import { scenePng } from '../helpers/synthetic-images.js';
import type { TestServer } from '../helpers/test-server.js';
import { field, generateButton, submittedBody, waitForForm } from './flows.js';
import { studioShot } from './studio-shots.js';

const b = useBrowser();
let server: TestServer;
let harbour: Buffer;

beforeAll(async () => {
  server = await startAppServer();
  harbour = await scenePng(5, 320, 240);
});
afterAll(async () => {
  await server?.close();
});

/** The drop zone around the file input labelled `label`. */
const zone = (page: Page, label: string): Locator => page.getByTestId('drop-zone').filter({ has: field(page, label) });

/**
 * Sends `event` ('drop' or 'paste') carrying one file made in the page from `bytes`: a drop on
 * `target`, a paste on the focused element (as Ctrl+V does).
 */
async function sendFile(page: Page, event: 'drop' | 'paste', name: string, type: string, bytes: Buffer, target?: Locator): Promise<void> {
  const payload = { event, name, type, base64: bytes.toString('base64') };
  const handle = target ? await target.elementHandle() : null;
  await page.evaluate(
    ({ payload: p, element }) => {
      const g: any = globalThis;
      const data = Uint8Array.from(g.atob(p.base64), (c: string) => c.charCodeAt(0));
      const transfer = new g.DataTransfer();
      transfer.items.add(new g.File([data], p.name, { type: p.type }));
      const to = element ?? g.document.activeElement ?? g.document.body;
      const e = p.event === 'drop' ? new g.DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: transfer }) : new g.ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: transfer });
      to.dispatchEvent(e);
    },
    { payload, element: handle },
  );
}

async function openImageToImage(page: Page): Promise<void> {
  await waitForForm(page);
  await page.getByRole('tab', { name: 'Image to image' }).click();
  await field(page, 'Reference image').waitFor({ state: 'attached' });
}

const loaded = (img: Locator) => expect.poll(() => img.evaluate((i: any) => (i.complete ? (i.naturalWidth as number) : 0))).toBeGreaterThan(0);

describe('input images: drop, paste, refusals and names', () => {
  it('shows a "Choose image" control instead of the bare file input, and takes a dropped reference that the run then uses', async () => {
    const { page, unexpectedProblems } = await b.openApp(server);
    await openImageToImage(page);
    const reference = zone(page, 'Reference image');
    await reference.getByText('Choose image').waitFor();
    // The native input (and its "No file chosen") takes no room on screen.
    const box = await field(page, 'Reference image').boundingBox();
    expect(box!.width * box!.height).toBeLessThanOrEqual(1);
    await studioShot(page, 'uploads-empty-1440x900');

    await sendFile(page, 'drop', 'harbour.png', 'image/png', harbour, reference);
    await reference.getByText('harbour.png').waitFor();
    await loaded(page.getByRole('img', { name: 'Reference preview' }));
    await reference.getByText('320×240').waitFor();

    await field(page, 'Prompt').fill('the harbour at night');
    const sent = await submittedBody(page, () => generateButton(page).click());
    expect(sent.body.reference_image).toEqual({ upload_id: expect.any(String) });
    expect(unexpectedProblems()).toEqual([]);
  });

  it('takes a pasted image (Ctrl+V) while typing the prompt: the reference, or the first empty frame of a video', async () => {
    const { page, unexpectedProblems } = await b.openApp(server);
    await openImageToImage(page);
    await field(page, 'Prompt').focus();
    await sendFile(page, 'paste', 'pasted.png', 'image/png', harbour);
    await zone(page, 'Reference image').getByText('pasted.png').waitFor();
    await loaded(page.getByRole('img', { name: 'Reference preview' }));

    await page.getByRole('tab', { name: 'Video' }).click();
    await field(page, 'Start frame').waitFor({ state: 'attached' });
    await field(page, 'Prompt').focus();
    await sendFile(page, 'paste', 'first.png', 'image/png', harbour);
    await zone(page, 'Start frame').getByText('first.png').waitFor();
    await sendFile(page, 'paste', 'last.png', 'image/png', harbour);
    await zone(page, 'End frame').getByText('last.png').waitFor();
    await loaded(page.getByRole('img', { name: 'End frame preview' }));
    expect(unexpectedProblems()).toEqual([]);
  });

  it('takes an image dropped beside the zone (on the prompt) instead of leaving the page for it', async () => {
    const { page, unexpectedProblems } = await b.openApp(server);
    await openImageToImage(page);
    const before = page.url();
    await sendFile(page, 'drop', 'beside.png', 'image/png', harbour, field(page, 'Prompt'));
    await zone(page, 'Reference image').getByText('beside.png').waitFor();
    await loaded(page.getByRole('img', { name: 'Reference preview' }));
    expect(page.url()).toBe(before);
    expect(unexpectedProblems()).toEqual([]);
  });

  it('explains a refused file in words, with no broken-image icon: a GIF before upload, bad bytes after', async () => {
    const { page, unexpectedProblems } = await b.openApp(server);
    await openImageToImage(page);
    const reference = zone(page, 'Reference image');
    await field(page, 'Reference image').setInputFiles({ name: 'cat.gif', mimeType: 'image/gif', buffer: Buffer.from('GIF89a not really') });
    await page.getByRole('alert').getByText('“cat.gif” is a GIF image. Use a PNG, JPEG or WebP image.').waitFor();
    await expect(reference.locator('img').count()).resolves.toBe(0);

    // Named .png but not an image: the server refuses it; the slot says why and shows no picture.
    await field(page, 'Reference image').setInputFiles({ name: 'fake.png', mimeType: 'image/png', buffer: Buffer.from('these bytes are not a picture at all') });
    const refusal = reference.getByRole('alert').filter({ hasText: 'fake.png:' });
    await refusal.waitFor();
    expect((await refusal.innerText()).length).toBeGreaterThan('fake.png: '.length + 10);
    await reference.getByText('Not used').waitFor();
    await expect(reference.locator('img').count()).resolves.toBe(0);
    await studioShot(page, 'uploads-refused-1440x900');
    // The refused upload's 422, as the network and the console report it.
    expect(unexpectedProblems([/\/api\/uploads\//, /status of 422/])).toEqual([]);
  });

  it('names an image taken from History by its prompt, not by its id', async () => {
    const made = await server.addUser('namer');
    const run = await (await import('../helpers/api.js')).apiClient(server, made.token).generate({ prompt: 'a stone bridge', width: 64, height: 64, steps: 1 });
    const asset = run.assets[0];
    const { page, unexpectedProblems } = await b.openApp(server, { token: made.token, path: `/images/${asset.id}` });
    await page.getByRole('button', { name: 'Use as reference' }).click();
    await waitForForm(page);
    const reference = zone(page, 'Reference image');
    await loaded(page.getByRole('img', { name: 'Reference preview' }));
    await expect.poll(() => reference.locator('.slot-name').innerText()).toBe('Image from history · a stone bridge');
    await expect(reference.getByText(asset.id).count()).resolves.toBe(0);
    expect(unexpectedProblems()).toEqual([]);
  });

  it('fits a phone (390 × 844) without sideways scrolling', async () => {
    const { page, unexpectedProblems } = await b.openApp(server, { viewport: { width: 390, height: 844 } });
    await openImageToImage(page);
    await sendFile(page, 'drop', 'a-rather-long-file-name-for-a-small-screen.png', 'image/png', harbour, zone(page, 'Reference image'));
    await loaded(page.getByRole('img', { name: 'Reference preview' }));
    expect(await overflowsHorizontally(page)).toMatchObject({ overflows: false });
    await zone(page, 'Reference image').scrollIntoViewIfNeeded();
    await studioShot(page, 'uploads-390x844');
    expect(unexpectedProblems()).toEqual([]);
  });
});
