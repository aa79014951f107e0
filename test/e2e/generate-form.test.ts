import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startAppServer, useBrowser } from '../helpers/browser.js';
import type { TestServer } from '../helpers/test-server.js';
import { adminApi, field, fillForm, generateButton, submittedBody, waitForForm, waitForResults } from './flows.js';

const b = useBrowser();
let server: TestServer;

beforeAll(async () => {
  server = await startAppServer();
});
afterAll(async () => {
  await server?.close();
});

/** The amount shown by the estimate, as a number ("4.15 credits" → 4.15). */
async function shownCost(page: Page): Promise<number | undefined> {
  const text = (await page.getByTestId('cost-estimate').textContent()) ?? '';
  const match = /([\d,]+\.\d{2})\s*credits/.exec(text);
  return match ? Number(match[1]!.replace(/,/g, '')) : undefined;
}

async function serverEstimate(steps: number): Promise<number> {
  const res = await adminApi(server).post('/api/estimate', { model: 'preview', mode: 't2i', width: 1024, height: 1024, steps, num_images: 1 });
  expect(res.status).toBe(200);
  return Math.round(res.body.amount * 100) / 100;
}

const jsonEditor = (page: Page) => field(page, 'Advanced JSON');

describe('generate form', () => {
  it('the cost estimate follows the steps and agrees with the server', async () => {
    const { page, unexpectedProblems } = await b.openApp(server);
    await waitForForm(page);
    await fillForm(page, { Prompt: 'a quiet harbour', Steps: 30 });
    const at30 = await serverEstimate(30);
    await expect.poll(() => shownCost(page)).toBe(at30);
    await fillForm(page, { Steps: 60 });
    const at60 = await serverEstimate(60);
    expect(at60).toBeGreaterThan(at30);
    await expect.poll(() => shownCost(page)).toBe(at60);
    expect(unexpectedProblems()).toEqual([]);
  });

  it('the JSON editor shows the form as the request body, and edits flow back into the form', async () => {
    const { page, unexpectedProblems } = await b.openApp(server);
    await waitForForm(page);
    await fillForm(page, { Prompt: 'two moons over a desert', Steps: 7 });
    await expect.poll(async () => JSON.parse(await jsonEditor(page).inputValue())).toMatchObject({ prompt: 'two moons over a desert', steps: 7 });

    const body = JSON.parse(await jsonEditor(page).inputValue());
    await jsonEditor(page).fill(JSON.stringify({ ...body, steps: 12, negative_prompt: 'fog' }, null, 2));
    await expect.poll(() => field(page, 'Steps').inputValue()).toBe('12');
    await expect.poll(() => field(page, 'Negative prompt').inputValue()).toBe('fog');
    // What is sent is what the editor says.
    await field(page, 'Prompt').click();
    const sent = await submittedBody(page, () => generateButton(page).click());
    expect(sent.body).toMatchObject({ prompt: 'two moons over a desert', steps: 12, negative_prompt: 'fog' });
    await waitForResults(page, server, sent.run.runId);
    expect(unexpectedProblems()).toEqual([]);
  });

  it('an invalid JSON value shows an alert and disables Generate until it is fixed', async () => {
    const { page, unexpectedProblems } = await b.openApp(server);
    await waitForForm(page);
    await fillForm(page, { Prompt: 'a lantern in the rain' });
    await expect.poll(() => generateButton(page).isEnabled()).toBe(true);
    const valid = await jsonEditor(page).inputValue();

    // A value of the wrong type: an alert, not silently replaced by a default.
    await jsonEditor(page).fill(JSON.stringify({ ...JSON.parse(valid), steps: 'many' }));
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/steps/);
    await expect.poll(() => generateButton(page).isDisabled()).toBe(true);
    expect(await jsonEditor(page).getAttribute('aria-invalid')).toBe('true');

    // A value out of the API's range (steps are 1–150).
    await jsonEditor(page).fill(JSON.stringify({ ...JSON.parse(valid), steps: 500 }));
    await expect.poll(async () => (await alert.textContent()) ?? '').toMatch(/steps/);
    await expect.poll(() => generateButton(page).isDisabled()).toBe(true);
    // Ctrl+Enter does not get around it either.
    await field(page, 'Prompt').press('Control+Enter');

    // Text that is not JSON at all.
    await jsonEditor(page).fill('{"prompt": "a lantern in the rain",');
    await expect.poll(async () => (await alert.textContent()) ?? '').toMatch(/JSON/);
    await expect.poll(() => generateButton(page).isDisabled()).toBe(true);

    // An unknown field: the API refuses those too.
    await jsonEditor(page).fill(JSON.stringify({ ...JSON.parse(valid), stepz: 5 }));
    await expect.poll(async () => (await alert.textContent()) ?? '').toMatch(/stepz/);
    await expect.poll(() => generateButton(page).isDisabled()).toBe(true);

    await jsonEditor(page).fill(valid);
    await expect.poll(() => alert.count()).toBe(0);
    await expect.poll(() => generateButton(page).isEnabled()).toBe(true);
    expect(await jsonEditor(page).getAttribute('aria-invalid')).toBe('false');
    // The estimate may still ask the server about the out-of-range body (a 422 it handles
    // by keeping the local estimate); nothing else may fail.
    expect(unexpectedProblems([/422 POST \S+\/api\/estimate$/, /status of 422/])).toEqual([]);
  });

  it('marks an invalid field, says under it what is wrong in words, and lists every problem', async () => {
    const { page, unexpectedProblems } = await b.openApp(server);
    await waitForForm(page);
    await fillForm(page, { Prompt: 'a field with a problem' });
    await expect.poll(() => generateButton(page).isEnabled()).toBe(true);
    /** The field's state: aria-invalid and the text of what describes it. */
    const described = (label: string) =>
      field(page, label).evaluate((el: any) => ({
        invalid: el.getAttribute('aria-invalid'),
        text: (el.getAttribute('aria-describedby') ?? '')
          .split(' ')
          .map((id: string) => el.ownerDocument.getElementById(id)?.textContent ?? '')
          .join(' | '),
      }));

    // An empty number field is explained, not sent.
    await field(page, 'Steps').fill('');
    await expect.poll(() => described('Steps')).toEqual({ invalid: 'true', text: 'Steps is empty: enter a whole number between 1 and 150 for preview | 1–150' });
    await expect.poll(() => generateButton(page).isDisabled()).toBe(true);

    // Out of range, two fields at once: each marked, both listed.
    await fillForm(page, { Steps: 200, 'CFG scale': 31 });
    await expect.poll(() => described('Steps')).toEqual({ invalid: 'true', text: 'Steps must be between 1 and 150 for preview | 1–150' });
    expect(await described('CFG scale')).toEqual({ invalid: 'true', text: 'CFG scale must be between 0 and 30 | 0–30' });
    const list = page.getByTestId('form-problems');
    expect(await list.getByRole('listitem').allTextContents()).toEqual(['Steps must be between 1 and 150 for preview', 'CFG scale must be between 0 and 30']);
    expect(await page.locator('#generate-hint').textContent()).toBe('Fix the request first: Steps must be between 1 and 150 for preview');
    expect(await described('Number of images')).toEqual({ invalid: null, text: '1–8' });

    await fillForm(page, { Steps: 20, 'CFG scale': 7 });
    await expect.poll(() => list.count()).toBe(0);
    expect(await described('Steps')).toEqual({ invalid: null, text: '1–150' });
    await expect.poll(() => generateButton(page).isEnabled()).toBe(true);
    expect(unexpectedProblems([/422 POST \S+\/api\/estimate$/, /status of 422/])).toEqual([]);
  });

  it('the dice draws a fixed seed that the run uses; the model picker shows each model’s modes', async () => {
    const { page, unexpectedProblems } = await b.openApp(server);
    await waitForForm(page);
    const options = await field(page, 'Model').locator('option').allTextContents();
    expect(options.some((text) => /preview/.test(text) && /t2i/.test(text))).toBe(true);

    await fillForm(page, { Prompt: 'a dice on green felt', Steps: 2 });
    await page.getByRole('button', { name: 'Random seed' }).click();
    await expect.poll(() => field(page, 'Seed').inputValue()).toMatch(/^\d+$/);
    const seed = Number(await field(page, 'Seed').inputValue());
    await expect.poll(() => page.getByRole('button', { name: 'Lock seed' }).getAttribute('aria-pressed')).toBe('true');
    const sent = await submittedBody(page, () => generateButton(page).click());
    expect(sent.body.seed).toBe(seed);
    expect(sent.run.seed).toBe(seed);
    await waitForResults(page, server, sent.run.runId);

    // Unlocked, every run asks for a random seed.
    await page.getByRole('button', { name: 'Lock seed' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Lock seed' }).getAttribute('aria-pressed')).toBe('false');
    const again = await submittedBody(page, () => generateButton(page).click());
    expect(again.body.seed ?? -1).toBe(-1);
    await waitForResults(page, server, again.run.runId);
    expect(unexpectedProblems()).toEqual([]);
  });

  it('is keyboard-friendly: arrow keys move between the mode tabs', async () => {
    const { page, unexpectedProblems } = await b.openApp(server);
    await waitForForm(page);
    const tab = (name: string) => page.getByRole('tablist').getByRole('tab', { name, exact: true });
    const selected = () => page.getByRole('tab', { selected: true }).textContent();
    const focused = () => page.evaluate((): string => (globalThis as any).document.activeElement?.textContent ?? '');
    await tab('Text to image').focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(selected).toBe('Image to image');
    expect(await focused()).toBe('Image to image');
    await field(page, 'Reference image').waitFor({ state: 'attached' });
    await page.keyboard.press('ArrowRight');
    await expect.poll(selected).toBe('Video');
    await field(page, 'Duration (s)').waitFor();
    await page.keyboard.press('ArrowRight');
    await expect.poll(selected).toBe('Text to image');
    await page.keyboard.press('End');
    await expect.poll(selected).toBe('Video');
    await page.keyboard.press('Home');
    await expect.poll(selected).toBe('Text to image');
    // One tab stop for the whole tablist: Tab leaves it for the panel.
    await page.keyboard.press('Tab');
    expect(await page.evaluate((): string | null => (globalThis as any).document.activeElement?.getAttribute('role'))).not.toBe('tab');
    expect(unexpectedProblems()).toEqual([]);
  });

  it('is keyboard-friendly: a skip link first, and Tab alone reaches Generate and runs it', async () => {
    const { page, unexpectedProblems } = await b.openApp(server);
    await waitForForm(page);
    const focused = () => page.evaluate((): { name: string; tag: string } => {
      const el = (globalThis as any).document.activeElement;
      return { name: (el?.getAttribute('aria-label') ?? el?.textContent ?? '').trim(), tag: el?.tagName ?? '' };
    });
    await page.keyboard.press('Tab');
    expect(await focused()).toEqual({ name: 'Skip to content', tag: 'A' });
    await field(page, 'Prompt').focus();
    await page.keyboard.type('typed without a mouse');
    await page.keyboard.press('Tab'); // leave the prompt: Tab moves focus, it types no tab character
    expect(await field(page, 'Prompt').inputValue()).toBe('typed without a mouse');
    let presses = 0;
    while ((await focused()).name !== 'Generate' && presses++ < 80) await page.keyboard.press('Tab');
    expect((await focused()).name).toBe('Generate');
    const sent = await submittedBody(page, () => page.keyboard.press('Enter'));
    expect(sent.body.prompt).toBe('typed without a mouse');
    await waitForResults(page, server, sent.run.runId);
    expect(unexpectedProblems()).toEqual([]);
  });
});
