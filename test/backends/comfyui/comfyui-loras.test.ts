import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../../src/backends/backend.js';
import { loadWorkflowTemplate, type WorkflowGraph } from '../../../src/backends/comfyui/workflow-template.js';
import txt2img from '../../../src/backends/comfyui/workflows/sd15-txt2img.api.json' with { type: 'json' };
import { sd15Txt2ImgBindings } from '../../../src/backends/comfyui/workflows/sd15-txt2img.bindings.js';
import { UnrecoverableError } from '../../../src/errors/signals.js';
import { startFakeComfyUI, type FakeComfyUI } from '../../helpers/fake-comfyui/fake-comfyui.js';
import { backendFor, images, recorder, spec } from './fixtures.js';

type Sent = WorkflowGraph;
const loaders = (graph: Sent) => Object.entries(graph).filter(([, node]) => node.class_type === 'LoraLoader');

describe('ComfyUI backend: LoRAs and model settings against a fake ComfyUI', () => {
  let fake: FakeComfyUI;
  let backend: Backend;
  beforeEach(async () => {
    fake = await startFakeComfyUI();
    backend = backendFor(fake.url, { checkpoint: 'configured.safetensors' });
  });
  afterEach(async () => {
    await backend.close?.();
    await fake.close();
  });

  it("queues the model's LoRAs then the request's as a chain of LoraLoaders, with the model's checkpoint", async () => {
    const job = spec({
      loras: [{ name: 'detail.safetensors', weight: 0.6 }, { name: 'grain.safetensors', weight: -0.5 }],
      backendSettings: { checkpoint: 'anime.safetensors', loras: [{ name: 'style.safetensors', weight: 0.8 }] },
    });
    const outputs = images(await backend.generate(job, recorder().ctx));
    expect(outputs).toHaveLength(1);
    const graph = fake.prompts[0]!.prompt as Sent;
    expect(loaders(graph).map(([id, node]) => [id, node.inputs])).toEqual([
      ['10', { model: ['4', 0], clip: ['4', 1], lora_name: 'style.safetensors', strength_model: 0.8, strength_clip: 0.8 }],
      ['11', { model: ['10', 0], clip: ['10', 1], lora_name: 'detail.safetensors', strength_model: 0.6, strength_clip: 0.6 }],
      ['12', { model: ['11', 0], clip: ['11', 1], lora_name: 'grain.safetensors', strength_model: -0.5, strength_clip: -0.5 }],
    ]);
    expect(graph['3']!.inputs.model).toEqual(['12', 0]);
    expect([graph['6']!.inputs.clip, graph['7']!.inputs.clip]).toEqual([['12', 1], ['12', 1]]);
    expect(graph['4']!.inputs.ckpt_name).toBe('anime.safetensors');
  });

  it("queues ComfyUI's own graph for a job without LoRAs, with the backend's checkpoint", async () => {
    await backend.generate(spec(), recorder().ctx);
    const graph = fake.prompts[0]!.prompt as Sent;
    expect(loaders(graph)).toEqual([]);
    expect(graph['3']!.inputs.model).toEqual(['4', 0]);
    expect(graph['4']!.inputs.ckpt_name).toBe('configured.safetensors');
  });

  it('binds the VAE and clip skip into a template that has VAELoader and CLIPSetLastLayer nodes', async () => {
    const graph = structuredClone(txt2img) as WorkflowGraph;
    graph['30'] = { class_type: 'VAELoader', inputs: { vae_name: 'template-vae.safetensors' } };
    graph['31'] = { class_type: 'CLIPSetLastLayer', inputs: { clip: ['10', 1], stop_at_clip_layer: -1 } };
    graph['8'] = { ...graph['8']!, inputs: { ...graph['8']!.inputs, vae: ['30', 0] } };
    for (const id of ['6', '7']) graph[id] = { ...graph[id]!, inputs: { ...graph[id]!.inputs, clip: ['31', 0] } };
    const t2i = loadWorkflowTemplate('settings', graph, { ...sd15Txt2ImgBindings, vae: { node: '30', input: 'vae_name' }, clip_skip: { node: '31', input: 'stop_at_clip_layer' } }, 't2i');
    const custom = backendFor(fake.url, { workflows: { t2i } });
    try {
      await custom.generate(spec({ loras: [{ name: 'detail.safetensors', weight: 1 }], backendSettings: { vae: 'kl-f8.safetensors', clipSkip: 2 } }), recorder().ctx);
    } finally {
      await custom.close?.();
    }
    const sent = fake.prompts[0]!.prompt as Sent;
    expect(sent['30']!.inputs.vae_name).toBe('kl-f8.safetensors');
    expect(sent['31']!.inputs).toEqual({ clip: ['10', 1], stop_at_clip_layer: -2 });
    expect(sent['10']!.inputs.lora_name).toBe('detail.safetensors');
  });

  it('fails a job whose model sets a VAE the template cannot bind, without queueing anything', async () => {
    const error = await backend.generate(spec({ backendSettings: { vae: 'kl-f8.safetensors' } }), recorder().ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error).toMatchObject({ code: 'capability_unsupported' });
    expect(fake.prompts).toEqual([]);
  });
});
