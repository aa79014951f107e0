import { delimiter } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, GeneratedImage } from '../../src/backends/backend.js';
import { createComfyUIBackend } from '../../src/backends/comfyui/comfyui-backend.js';
import type { HistoryEntry } from '../../src/backends/comfyui/comfyui-http.js';
import { loadWorkflowTemplate, type WorkflowGraph } from '../../src/backends/comfyui/workflow-template.js';
import { CanceledError } from '../../src/errors/signals.js';
import { classifyError } from '../../src/runner/classify-error.js';
import { contractSpec, expectSaneProgress, recorder, settle } from '../contract/backend-contract.js';
import { startRealComfyUI, type RealComfyUI } from '../helpers/real-comfyui.js';

/**
 * The ComfyUI adapter against a REAL ComfyUI (the recipe in ../shared/peers/comfyui): set
 * COMFYUI_DIR to one or more extracted ComfyUI trees (separated by ':'), e.g.
 * `COMFYUI_DIR=/opt/comfy/v0.1.0:/opt/comfy/2023 npx vitest run test/peers`. Graphs need no
 * weights: EmptyImage (colour = seed) → ImageInvert → AtelierSlowSteps (a sampler-like node
 * with progress, previews and interrupts) → SaveImage.
 */
const dirs = (process.env.COMFYUI_DIR ?? '').split(delimiter).filter(Boolean);

const weightless = (stepDelay: number): WorkflowGraph => ({
  1: { class_type: 'EmptyImage', inputs: { width: 64, height: 64, batch_size: 1, color: 0 } },
  2: { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
  3: { class_type: 'AtelierSlowSteps', inputs: { image: ['2', 0], steps: 4, delay: stepDelay } },
  4: { class_type: 'SaveImage', inputs: { images: ['3', 0], filename_prefix: 'atelier' } },
});
const BINDINGS = {
  prompt: { node: '4', input: 'filename_prefix' },
  seed: { node: '1', input: 'color' },
  steps: { node: '3', input: 'steps' },
  width: { node: '1', input: 'width' },
  height: { node: '1', input: 'height' },
  batch_size: { node: '1', input: 'batch_size' },
};
/** ImageBlur's blur_radius is at most 31: ComfyUI refuses the graph with its 400 validation body. */
const invalid = (): WorkflowGraph => ({
  ...weightless(0.01),
  4: { class_type: 'SaveImage', inputs: { images: ['5', 0], filename_prefix: 'atelier' } },
  5: { class_type: 'ImageBlur', inputs: { image: ['3', 0], blur_radius: 99, sigma: 1 } },
});

/**
 * The pixel ComfyUI writes for seed-as-colour: EmptyImage fills channel c / 255 in float32,
 * ImageInvert takes 1 - x, SaveImage truncates 255 · x to uint8 (so 168 can come out 167).
 */
const expectedColour = (seed: number) =>
  [16, 8, 0].map((shift) => {
    const inverted = Math.fround(1 - Math.fround(((seed >> shift) & 0xff) / 255));
    return Math.trunc(Math.fround(255 * inverted));
  });

if (dirs.length === 0) {
  describe('real ComfyUI peer', () => {
    it.skip('skipped: set COMFYUI_DIR to an extracted ComfyUI (see ../shared/peers/comfyui/README.md) to run the adapter against it', () => {});
  });
}

for (const dir of dirs) {
  describe(`real ComfyUI at ${dir}`, () => {
    let comfy: RealComfyUI;
    let backend: Backend;
    let rejecting: Backend;
    const make = (graph: WorkflowGraph) =>
      createComfyUIBackend({
        url: comfy.url,
        workflows: { t2i: loadWorkflowTemplate('weightless', graph, BINDINGS, 't2i') },
        timeouts: { connectMs: 2_000, generationMs: 60_000 },
        maxSteps: 1_000,
      });
    const spec = (overrides = {}) => contractSpec(backend, { prompt: 'atelier-peer', width: 64, height: 64, seed: 0x123456, ...overrides });
    const history = async (id: string) => ((await (await fetch(`${comfy.url}/history/${id}`)).json()) as Record<string, HistoryEntry>)[id];
    const queue = async () => {
      const body = (await (await fetch(`${comfy.url}/queue`)).json()) as { queue_running: unknown[][]; queue_pending: unknown[][] };
      return { running: body.queue_running.map((item) => item[1]), pending: body.queue_pending.map((item) => item[1]) };
    };

    beforeAll(async () => {
      comfy = await startRealComfyUI(dir);
      backend = make(weightless(0.05));
      rejecting = make(invalid());
    }, 180_000);
    afterAll(async () => {
      await backend?.close?.();
      await rejecting?.close?.();
      await comfy?.close();
    });

    it('renders a batch: one prompt per image, pixels exactly what the graph paints for each seed, progress to the end, previews', async () => {
      const s = spec({ numImages: 2, steps: 6 });
      const { ctx, progress, previews } = recorder();
      const outputs = (await backend.generate(s, ctx)) as GeneratedImage[];
      expect(outputs.map((o) => [o.index, o.seed, o.width, o.height])).toEqual([[0, s.seed, 64, 64], [1, s.seed + 1, 64, 64]]);
      for (const output of outputs) {
        const { data, info } = await sharp(output.data).removeAlpha().raw().toBuffer({ resolveWithObject: true });
        expect(info.width * info.height).toBe(64 * 64);
        const want = expectedColour(output.seed);
        for (let i = 0; i < data.length; i += 3) {
          if (data[i] !== want[0] || data[i + 1] !== want[1] || data[i + 2] !== want[2]) throw new Error(`pixel ${i / 3} is ${data.subarray(i, i + 3).join(',')}, expected ${want.join(',')}`);
        }
      }
      expectSaneProgress(progress);
      expect(progress.some((p) => p.step > 0 && p.step < p.totalSteps)).toBe(true); // from ComfyUI's events
      expect(previews.length).toBeGreaterThan(0);
      for (const preview of previews) expect((await sharp(preview.data).metadata()).format).toBe(preview.mime.slice('image/'.length));
    });

    it('a graph ComfyUI refuses is backend_rejected, unrecoverable, within a second', async () => {
      const { error, at } = await settle(rejecting.generate(spec(), recorder().ctx));
      const started = at;
      expect(classifyError(error)).toMatchObject({ code: 'backend_rejected', retryable: false });
      expect((error as Error).message).toMatch(/blur_radius/);
      expect(Date.now() - started).toBeLessThan(1_000);
    });

    it('a node that raises while running is backend_failed, unrecoverable', async () => {
      const { error } = await settle(backend.generate(spec({ prompt: '../../escape' }), recorder().ctx), 30_000);
      expect(classifyError(error)).toMatchObject({ code: 'backend_failed', retryable: false });
      expect((error as Error).message).toMatch(/ComfyUI failed in node 4 \(SaveImage\)/);
    });

    it('cancel mid-job stops our prompt promptly', async () => {
      const abort = new AbortController();
      const { ctx, progress } = recorder(abort.signal);
      const job = settle(backend.generate(spec({ steps: 400 }), ctx), 30_000);
      await expect.poll(() => progress.length, { timeout: 20_000 }).toBeGreaterThan(1);
      const abortedAt = Date.now();
      abort.abort();
      const { error, at } = await job;
      expect(error).toBeInstanceOf(CanceledError);
      expect(at - abortedAt).toBeLessThan(1_500);
      await expect.poll(async () => (await queue()).running, { timeout: 10_000 }).toEqual([]);
    });

    it("another client's prompt is untouched by our refused job and by canceling ours while it waits behind it", async () => {
      const graph = weightless(0.05);
      (graph['3']!.inputs as Record<string, unknown>).steps = 60; // about 3 s
      const res = await fetch(`${comfy.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt: graph, client_id: 'someone-else' }) });
      const { prompt_id: other } = (await res.json()) as { prompt_id: string };
      await expect.poll(async () => (await queue()).running, { timeout: 10_000 }).toEqual([other]);

      const refused = await settle(rejecting.generate(spec(), recorder().ctx));
      expect(classifyError(refused.error).code).toBe('backend_rejected');

      const abort = new AbortController();
      const waiting = settle(backend.generate(spec(), recorder(abort.signal).ctx), 30_000);
      await expect.poll(async () => (await queue()).pending.length, { timeout: 10_000 }).toBe(1);
      abort.abort();
      expect((await waiting).error).toBeInstanceOf(CanceledError);

      await expect.poll(() => history(other), { timeout: 20_000 }).toBeDefined();
      const entry = (await history(other))!;
      expect(entry.status?.messages?.map(([event]) => event) ?? []).not.toContain('execution_interrupted');
      expect(Object.values(entry.outputs ?? {}).flatMap((o) => o?.images ?? [])).toHaveLength(1);
      expect((await queue()).pending).toEqual([]);
    });

    it('ComfyUI killed mid-job: a classified, retryable failure, not a hang', async () => {
      const { ctx, progress } = recorder();
      const job = settle(backend.generate(spec({ steps: 400 }), ctx), 30_000);
      await expect.poll(() => progress.length, { timeout: 20_000 }).toBeGreaterThan(1);
      comfy.kill();
      const { error, value } = await job;
      expect(value).toBeUndefined();
      expect(classifyError(error)).toMatchObject({ code: 'backend_failed', retryable: true });
    });
  });
}
