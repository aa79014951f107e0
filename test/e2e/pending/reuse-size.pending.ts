/**
 * PENDING (not run: the name does not match *.test.ts). Rename to ../reuse-size.test.ts once
 * it passes.
 *
 * Fails today: "Reuse settings" of a job rendered at an explicit size (320×256) sends
 * `aspect_ratio: "5:4"` instead of width/height — draftBody (web/src/features/generate/
 * request-body.ts) turns any width × height near a ratio into that ratio, which the server
 * resolves at the model's base resolution (1024-ish), so the reused run renders a different,
 * larger picture than the one reused. Converting is only lossless when the ratio resolves to
 * exactly that size for the model.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAppServer, useBrowser } from '../../helpers/browser.js';
import type { TestServer } from '../../helpers/test-server.js';
import { generateButton, generateViaApi, submittedBody, waitForForm, waitForResults } from '../flows.js';

const b = useBrowser();
let server: TestServer;
beforeAll(async () => {
  server = await startAppServer();
});
afterAll(async () => {
  await server?.close();
});

it('Reuse settings of a 320×256 image renders the same 320×256 picture', async () => {
  const run = await generateViaApi(server, { prompt: 'an orchard in spring', seed: 77, steps: 5, width: 320, height: 256 });
  const asset = run.assets[0];
  const { page } = await b.openApp(server, { path: `/images/${asset.id}` });
  await page.getByRole('button', { name: 'Reuse settings' }).click();
  await waitForForm(page);
  const sent = await submittedBody(page, () => generateButton(page).click());
  expect(sent.run.parameters).toMatchObject({ width: 320, height: 256, seed: 77, steps: 5 });
  const again = await waitForResults(page, server, sent.run.runId);
  const bytes = async (url: string) => Buffer.from(await (await fetch(url)).arrayBuffer());
  expect((await bytes(again.assets[0].url)).equals(await bytes(asset.url))).toBe(true);
});
