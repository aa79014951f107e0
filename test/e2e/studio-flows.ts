/**
 * Steps the studio tests share (issue #16): the run queue and the canvas of the Generate
 * screen, read the way a person sees them.
 */
import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import type { TestServer } from '../helpers/test-server.js';
import { adminApi, fillForm, submitRun, waitForForm, waitForResults } from './flows.js';

/** The queue entry of a run. */
export const queueItem = (page: Page, runId: string): Locator => page.getByTestId('run-queue').locator(`[data-run-id="${runId}"]`);

/** The status a queue entry shows (`queued`, `running`, `succeeded`, …). */
export const queueStatus = (page: Page, runId: string): Promise<string | null> => queueItem(page, runId).getAttribute('data-status');

/** Fills the form, presses Generate and waits for the run's results on the canvas. */
export async function generate(page: Page, server: TestServer, values: Record<string, string | number>): Promise<any> {
  await waitForForm(page);
  await fillForm(page, values);
  const run = await submitRun(page);
  return waitForResults(page, server, run.runId);
}

/** The run id in the address bar (`/generate?run=ID`). */
export const linkedRun = (page: Page): string | null => new URL(page.url()).searchParams.get('run');

/** The rendered size of each result picture on the canvas, in order. */
export async function resultSizes(page: Page): Promise<{ width: number; height: number }[]> {
  const images = page.getByTestId('variant-grid').getByRole('img');
  return images.evaluateAll((all: any[]) => all.map((img) => ({ width: img.getBoundingClientRect().width as number, height: img.getBoundingClientRect().height as number })));
}

/** Waits until the API reports the run in one of `statuses`; returns its view. */
export async function runReaches(server: TestServer, runId: string, statuses: readonly string[]): Promise<any> {
  let view: any;
  await expect
    .poll(async () => {
      view = (await adminApi(server).get(`/api/status/${runId}`)).body;
      return statuses.includes(view.status);
    }, { timeout: 20_000 })
    .toBe(true);
  return view;
}
