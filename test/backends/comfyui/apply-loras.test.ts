import { describe, expect, it } from 'vitest';
import { applyLoras } from '../../../src/backends/comfyui/apply-loras.js';
import { bindWorkflow } from '../../../src/backends/comfyui/bind-workflow.js';
import { defaultComfyWorkflows } from '../../../src/backends/comfyui/default-workflows.js';
import { modelSettingValues } from '../../../src/backends/comfyui/model-settings.js';
import { loadWorkflowTemplate, type WorkflowGraph, type WorkflowTemplate } from '../../../src/backends/comfyui/workflow-template.js';
import txt2img from '../../../src/backends/comfyui/workflows/sd15-txt2img.api.json' with { type: 'json' };
import { sd15Txt2ImgBindings } from '../../../src/backends/comfyui/workflows/sd15-txt2img.bindings.js';
import { AtelierError } from '../../../src/errors/atelier-error.js';
import { UnrecoverableError } from '../../../src/errors/signals.js';

const { t2i, i2i } = defaultComfyWorkflows() as Required<ReturnType<typeof defaultComfyWorkflows>>;
const bound = (template: WorkflowTemplate) => bindWorkflow(template, { prompt: 'a fox', seed: 1 });
const loras = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `lora-${i}.safetensors`, weight: 0.25 * (i + 1) }));

/** Every link of the graph, as `node.input → [source, output]`. */
function links(graph: WorkflowGraph): Record<string, unknown> {
  const found: Record<string, unknown> = {};
  for (const [id, node] of Object.entries(graph)) {
    for (const [input, value] of Object.entries(node.inputs)) if (Array.isArray(value)) found[`${id}.${input}`] = value;
  }
  return found;
}

/** Fails when a link names a node the graph does not have (ComfyUI's bad_linked_input). */
function expectNoDanglingLinks(graph: WorkflowGraph): void {
  for (const [where, link] of Object.entries(links(graph))) expect(graph[String((link as unknown[])[0])], `${where} → ${JSON.stringify(link)}`).toBeDefined();
}

describe('applyLoras on the bundled SD1.5 text-to-image graph', () => {
  it('bypasses the LoraLoader for a job without LoRAs: the graph is ComfyUI’s own example again', () => {
    const graph = applyLoras(bound(t2i), t2i, []);
    expect(graph['10']).toBeUndefined();
    expect(Object.values(graph).map((node) => node.class_type)).not.toContain('LoraLoader');
    expect(links(graph)).toEqual({
      '3.latent_image': ['5', 0],
      '3.model': ['4', 0],
      '3.negative': ['7', 0],
      '3.positive': ['6', 0],
      '6.clip': ['4', 1],
      '7.clip': ['4', 1],
      '8.samples': ['3', 0],
      '8.vae': ['4', 2],
      '9.images': ['8', 0],
    });
  });

  it('sets one LoRA on the LoraLoader itself, both strengths at its weight', () => {
    const graph = applyLoras(bound(t2i), t2i, [{ name: 'detail.safetensors', weight: 0.7 }]);
    expect(graph['10']).toMatchObject({
      class_type: 'LoraLoader',
      inputs: { model: ['4', 0], clip: ['4', 1], lora_name: 'detail.safetensors', strength_model: 0.7, strength_clip: 0.7 },
    });
    expect(links(graph)).toMatchObject({ '3.model': ['10', 0], '6.clip': ['10', 1], '7.clip': ['10', 1], '8.vae': ['4', 2] });
    expect(Object.keys(graph).sort()).toEqual(Object.keys(txt2img).sort());
    expectNoDanglingLinks(graph);
  });

  it('chains three LoRAs in order, each reading the previous one, and rewires the consumers to the last', () => {
    const graph = applyLoras(bound(t2i), t2i, loras(3));
    const chain = Object.entries(graph).filter(([, node]) => node.class_type === 'LoraLoader');
    expect(chain.map(([id, node]) => [id, node.inputs])).toEqual([
      ['10', { model: ['4', 0], clip: ['4', 1], lora_name: 'lora-0.safetensors', strength_model: 0.25, strength_clip: 0.25 }],
      ['11', { model: ['10', 0], clip: ['10', 1], lora_name: 'lora-1.safetensors', strength_model: 0.5, strength_clip: 0.5 }],
      ['12', { model: ['11', 0], clip: ['11', 1], lora_name: 'lora-2.safetensors', strength_model: 0.75, strength_clip: 0.75 }],
    ]);
    expect(links(graph)).toMatchObject({ '3.model': ['12', 0], '6.clip': ['12', 1], '7.clip': ['12', 1], '8.vae': ['4', 2] });
    expectNoDanglingLinks(graph);
  });

  it('leaves the template untouched, so the next job starts from the original', () => {
    applyLoras(bound(t2i), t2i, loras(3));
    applyLoras(bound(t2i), t2i, []);
    expect(t2i.graph['10']!.inputs).toMatchObject({ model: ['4', 0], lora_name: 'lora.safetensors' });
    expect(t2i.graph['3']!.inputs.model).toEqual(['10', 0]);
    expect(t2i.graph['11']).toBeUndefined();
  });
});

describe('applyLoras on the bundled image-to-image graph and on other graphs', () => {
  it('gives the chain fresh ids after the highest one and keeps the VAE links on the checkpoint', () => {
    const graph = applyLoras(bound(i2i), i2i, loras(3));
    expect(['15', '16', '17'].map((id) => graph[id]!.class_type)).toEqual(['LoraLoader', 'LoraLoader', 'LoraLoader']);
    expect(links(graph)).toMatchObject({ '15.model': ['14', 0], '16.model': ['15', 0], '17.clip': ['16', 1], '3.model': ['17', 0], '6.clip': ['17', 1], '12.vae': ['14', 2], '8.vae': ['14', 2] });
    expectNoDanglingLinks(graph);
    const bypassed = applyLoras(bound(i2i), i2i, []);
    expect(links(bypassed)).toMatchObject({ '3.model': ['14', 0], '6.clip': ['14', 1], '7.clip': ['14', 1] });
    expectNoDanglingLinks(bypassed);
  });

  it('bypasses a LoraLoader fed by another LoraLoader (a template with a fixed LoRA before the bound one)', () => {
    const graph = structuredClone(txt2img) as WorkflowGraph;
    graph['20'] = { class_type: 'LoraLoader', inputs: { model: ['4', 0], clip: ['4', 1], lora_name: 'fixed.safetensors', strength_model: 1, strength_clip: 1 } };
    graph['10'] = { ...graph['10']!, inputs: { ...graph['10']!.inputs, model: ['20', 0], clip: ['20', 1] } };
    const template = loadWorkflowTemplate('fixed-lora', graph, sd15Txt2ImgBindings, 't2i');
    const result = applyLoras(bound(template), template, []);
    expect(links(result)).toMatchObject({ '3.model': ['20', 0], '6.clip': ['20', 1], '20.model': ['4', 0] });
    expect(result['20']!.inputs.lora_name).toBe('fixed.safetensors');
  });

  it('numbers new nodes past non-numeric ids without colliding', () => {
    const graph = Object.fromEntries(Object.entries(structuredClone(txt2img)).map(([id, node]) => [id === '9' ? 'save' : id, node])) as WorkflowGraph;
    graph['11'] = { class_type: 'PreviewImage', inputs: { images: ['8', 0] } };
    const template = loadWorkflowTemplate('named', graph, sd15Txt2ImgBindings, 't2i');
    const result = applyLoras(bound(template), template, loras(3));
    expect(Object.keys(result).filter((id) => result[id]!.class_type === 'LoraLoader')).toEqual(['10', '12', '13']);
    expect(result['11']!.class_type).toBe('PreviewImage');
    expectNoDanglingLinks(result);
  });

  it('fails a job with LoRAs on a template without a lora binding, and leaves it alone without', () => {
    const { lora: _lora, ...withoutLora } = sd15Txt2ImgBindings;
    const template = loadWorkflowTemplate('no-lora', txt2img, withoutLora, 't2i');
    expect(() => applyLoras(bound(template), template, loras(1))).toThrow(UnrecoverableError);
    expect(() => applyLoras(bound(template), template, loras(1))).toThrow("The ComfyUI workflow 'no-lora' has no 'lora' binding");
    expect(applyLoras(bound(template), template, [])).toEqual(bound(template));
  });
});

describe('the lora binding at load', () => {
  it.each([
    [{ lora: { node: '3', input: 'model' } }, /binding 'lora' names node '3' \(KSampler\), which lacks the LoraLoader inputs clip, lora_name, strength_model, strength_clip/],
    [{ lora: [{ node: '10', input: 'lora_name' }, { node: '10', input: 'lora_name' }] }, /binding 'lora' must name one LoraLoader node, not a list/],
  ])('refuses a lora binding that names no single LoraLoader: %j', (extra, message) => {
    expect(() => loadWorkflowTemplate('bad', txt2img, { ...sd15Txt2ImgBindings, ...extra }, 't2i')).toThrow(message);
    expect(() => loadWorkflowTemplate('bad', txt2img, { ...sd15Txt2ImgBindings, ...extra }, 't2i')).toThrow(AtelierError);
  });

  it('refuses a LoraLoader whose model and clip are literals, not links', () => {
    const graph = structuredClone(txt2img) as WorkflowGraph;
    graph['10'] = { ...graph['10']!, inputs: { ...graph['10']!.inputs, model: 'x' } };
    expect(() => loadWorkflowTemplate('literal', graph, sd15Txt2ImgBindings, 't2i')).toThrow(/model and clip inputs must be links/);
  });
});

describe('modelSettingValues', () => {
  /** txt2img with a VAELoader feeding the decoder and a CLIPSetLastLayer between the LoRA and the encoders. */
  function settingsTemplate(): WorkflowTemplate {
    const graph = structuredClone(txt2img) as WorkflowGraph;
    graph['30'] = { class_type: 'VAELoader', inputs: { vae_name: 'template-vae.safetensors' } };
    graph['31'] = { class_type: 'CLIPSetLastLayer', inputs: { clip: ['10', 1], stop_at_clip_layer: -1 } };
    graph['8'] = { ...graph['8']!, inputs: { ...graph['8']!.inputs, vae: ['30', 0] } };
    for (const id of ['6', '7']) graph[id] = { ...graph[id]!, inputs: { ...graph[id]!.inputs, clip: ['31', 0] } };
    return loadWorkflowTemplate('settings', graph, { ...sd15Txt2ImgBindings, vae: { node: '30', input: 'vae_name' }, clip_skip: { node: '31', input: 'stop_at_clip_layer' } }, 't2i');
  }

  it("binds the model's checkpoint over the backend's, its VAE, and clip skip as −clipSkip", () => {
    const template = settingsTemplate();
    const values = modelSettingValues(template, { backendSettings: { checkpoint: 'anime.safetensors', vae: 'kl-f8.safetensors', clipSkip: 2 } }, 'configured.safetensors');
    expect(values).toEqual({ checkpoint: 'anime.safetensors', vae: 'kl-f8.safetensors', clip_skip: -2 });
    const graph = bindWorkflow(template, { prompt: 'x', seed: 1, ...values });
    expect([graph['4']!.inputs.ckpt_name, graph['30']!.inputs.vae_name, graph['31']!.inputs.stop_at_clip_layer]).toEqual(['anime.safetensors', 'kl-f8.safetensors', -2]);
    // The bypass rewires the CLIPSetLastLayer too.
    expect(applyLoras(graph, template, [])['31']!.inputs.clip).toEqual(['4', 1]);
  });

  it("keeps the backend's checkpoint and the template's own VAE and clip layer for a model without settings", () => {
    expect(modelSettingValues(settingsTemplate(), {}, 'configured.safetensors')).toEqual({ checkpoint: 'configured.safetensors', vae: undefined, clip_skip: undefined });
  });

  it('fails a job whose model sets what the template cannot bind; clip skip 1 needs no binding', () => {
    expect(() => modelSettingValues(t2i, { backendSettings: { vae: 'kl-f8.safetensors' } }, undefined)).toThrow("The model sets a VAE but the ComfyUI workflow 'sd15-txt2img' has no 'vae' binding");
    expect(() => modelSettingValues(t2i, { backendSettings: { clipSkip: 2 } }, undefined)).toThrow(UnrecoverableError);
    expect(modelSettingValues(t2i, { backendSettings: { clipSkip: 1 } }, undefined)).toEqual({ checkpoint: undefined, vae: undefined, clip_skip: undefined });
    const { checkpoint: _checkpoint, ...noCheckpoint } = sd15Txt2ImgBindings;
    const bare = loadWorkflowTemplate('bare', txt2img, noCheckpoint, 't2i');
    expect(() => modelSettingValues(bare, { backendSettings: { checkpoint: 'anime.safetensors' } }, undefined)).toThrow(/has no 'checkpoint' binding/);
  });
});
