/**
 * Steps the end-to-end tests share: filling the Generate form by its labels, submitting and
 * catching the run the server created, waiting for results. Everything waits on conditions
 * (the response, an element, the API), never on a fixed delay.
 */
import type { Locator, Page, Response } from 'playwright-core';
import { expect } from 'vitest';
import { apiClient, type ApiClient } from '../helpers/api.js';
import type { TestServer } from '../helpers/test-server.js';

export function adminApi(server: TestServer): ApiClient {
  return apiClient(server, server.adminToken);
}

/** A labelled control, matched exactly ("Seed" must not find "Random seed"). */
export const field = (page: Page, label: string): Locator => page.getByLabel(label, { exact: true });

export const generateButton = (page: Page): Locator => page.getByRole('button', { name: 'Generate', exact: true });

/** Sets fields of the Generate form: text and number inputs by label. */
export async function fillForm(page: Page, values: Record<string, string | number>): Promise<void> {
  for (const [label, value] of Object.entries(values)) await field(page, label).fill(String(value));
}

/** Waits until the form has loaded the model registry (the Generate button can be used). */
export async function waitForForm(page: Page): Promise<void> {
  await field(page, 'Prompt').waitFor();
  await expect.poll(async () => (await field(page, 'Model').locator('option').count()) > 0).toBe(true);
}

const isSubmit = (response: Response) => response.request().method() === 'POST' && /^\/api\/generate\//.test(new URL(response.url()).pathname);

/**
 * Runs `action` (default: click Generate) and returns the run the server accepted (the 202
 * body of POST /api/generate/…): `{runId, seed, parameters, …}`.
 */
export async function submitRun(page: Page, action: () => Promise<unknown> = () => generateButton(page).click()): Promise<any> {
  const [response] = await Promise.all([page.waitForResponse(isSubmit), action()]);
  const body = await response.json();
  if (response.status() !== 202) throw new Error(`POST ${response.url()} → ${response.status()} ${JSON.stringify(body)}`);
  return body;
}

/** The request body the page sent with the submit `action`. */
export async function submittedBody(page: Page, action: () => Promise<unknown>): Promise<{ path: string; body: any; run: any }> {
  const [response] = await Promise.all([page.waitForResponse(isSubmit), action()]);
  return { path: new URL(response.url()).pathname, body: response.request().postDataJSON(), run: await response.json() };
}

/** Waits for the run to end (over the API) and for the result grid to link every asset. */
export async function waitForResults(page: Page, server: TestServer, runId: string): Promise<any> {
  const done = await adminApi(server).waitFor(runId, undefined, 30_000);
  if (done.status !== 'succeeded') throw new Error(`run ${runId} ended ${done.status}: ${JSON.stringify(done.error)}`);
  const grid = page.getByTestId('variant-grid');
  for (const asset of done.assets) await grid.locator(`a[href="/images/${encodeURIComponent(asset.id)}"]`).waitFor();
  return done;
}

/** Waits until every <img> under `scope` has loaded and decoded a real picture. */
export async function waitForImagesLoaded(scope: Locator): Promise<number> {
  const images = scope.locator('img');
  await images.first().waitFor();
  await expect
    .poll(() => images.evaluateAll((all: any[]) => all.every((img) => img.complete && img.naturalWidth > 0)), { timeout: 15_000 })
    .toBe(true);
  return images.count();
}

/** Generates over the API (fast, no browser) and waits; returns the finished run. */
export async function generateViaApi(server: TestServer, body: Record<string, unknown>): Promise<any> {
  return adminApi(server).generate({ width: 256, height: 256, steps: 2, ...body });
}
