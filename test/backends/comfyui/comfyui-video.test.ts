import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadWorkflowTemplate } from '../../../src/backends/comfyui/workflow-template.js';
import { startFakeComfyUI, type FakeComfyUI } from '../../helpers/fake-comfyui/fake-comfyui.js';
import { makeTempDir } from '../../helpers/temp-dir.js';
import { backendFor, recorder, spec } from './fixtures.js';

/** A WAN-2.1-shaped text-to-video graph: EmptyHunyuanLatentVideo → KSampler → VAEDecode → CreateVideo → SaveVideo. */
const T2V_GRAPH = {
  '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'wan2.1_t2v_1.3B.safetensors' } },
  '2': { class_type: 'CLIPTextEncode', inputs: { text: '', clip: ['1', 1] } },
  '3': { class_type: 'CLIPTextEncode', inputs: { text: '', clip: ['1', 1] } },
  '4': { class_type: 'EmptyHunyuanLatentVideo', inputs: { width: 832, height: 480, length: 33, batch_size: 1 } },
  '5': { class_type: 'KSampler', inputs: { seed: 0, steps: 30, cfg: 6, sampler_name: 'uni_pc', scheduler: 'simple', denoise: 1, model: ['1', 0], positive: ['2', 0], negative: ['3', 0], latent_image: ['4', 0] } },
  '6': { class_type: 'VAEDecode', inputs: { samples: ['5', 0], vae: ['1', 2] } },
  '7': { class_type: 'CreateVideo', inputs: { images: ['6', 0], fps: 16 } },
  '8': { class_type: 'SaveVideo', inputs: { video: ['7', 0], filename_prefix: 'video/ComfyUI', format: 'mp4', codec: 'h264' } },
};
const T2V_BINDINGS = {
  prompt: { node: '2', input: 'text' },
  negative_prompt: { node: '3', input: 'text' },
  seed: { node: '5', input: 'seed' },
  steps: { node: '5', input: 'steps' },
  width: { node: '4', input: 'width' },
  height: { node: '4', input: 'height' },
  frames: { node: '4', input: 'length' },
  fps: { node: '7', input: 'fps' },
};

describe('ComfyUI backend video outputs', () => {
  let fake: FakeComfyUI;
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  beforeEach(async () => {
    fake = await startFakeComfyUI({ stepDelayMs: 2 });
    temp = await makeTempDir();
  });
  afterEach(async () => {
    await fake.close();
    await temp.remove();
  });

  it('streams an animated SaveVideo output into workDir and probes it', async () => {
    const backend = backendFor(fake.url, { workflows: { t2v: loadWorkflowTemplate('wan-t2v', T2V_GRAPH, T2V_BINDINGS, 't2v') } });
    try {
      expect(backend.capabilities.modes).toEqual(['t2v']);
      const outputs = await backend.generate(spec({ mode: 't2v', width: 64, height: 48, numFrames: 9, fps: 12, seed: 3 }), { ...recorder().ctx, workDir: temp.dir });
      expect(fake.prompts[0]!.prompt['4']!.inputs).toMatchObject({ width: 64, height: 48, length: 9 });
      expect(outputs).toHaveLength(1);
      const [video] = outputs;
      expect(video).toMatchObject({ kind: 'video', index: 0, seed: 3, width: 64, height: 48, fps: 12, frameCount: 9 });
      if (video?.kind !== 'video') throw new Error('expected a video');
      expect(video.file.startsWith(temp.dir)).toBe(true);
      expect(existsSync(video.file)).toBe(true);
    } finally {
      await backend.close?.();
    }
  });
});
