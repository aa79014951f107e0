import { describe, expect, it } from 'vitest';
import { bindWorkflow } from '../../../src/backends/comfyui/bind-workflow.js';
import { defaultComfyWorkflows } from '../../../src/backends/comfyui/default-workflows.js';
import { DEFAULT_COMFY_SAMPLERS } from '../../../src/backends/comfyui/samplers.js';
import { loadWorkflowTemplate } from '../../../src/backends/comfyui/workflow-template.js';
import txt2img from '../../../src/backends/comfyui/workflows/sd15-txt2img.api.json' with { type: 'json' };
import { AtelierError } from '../../../src/errors/atelier-error.js';

describe('ComfyUI workflow templates', () => {
  it('binds a prompt with quotes, braces and newlines verbatim, by node and input', () => {
    const { t2i } = defaultComfyWorkflows();
    const prompt = 'a "quoted" {brace} "}, "9": {"class_type": "Evil"} \\ back\nslash\n\t}"';
    const graph = bindWorkflow(t2i!, { prompt, negative_prompt: '"}', seed: 7 });
    expect(graph['6']!.inputs.text).toBe(prompt);
    expect(graph['7']!.inputs.text).toBe('"}');
    expect(graph['3']!.inputs.seed).toBe(7);
    expect(Object.keys(graph).sort()).toEqual(Object.keys(txt2img).sort());
    expect(graph['9']!.class_type).toBe('SaveImage');
    expect((JSON.parse(JSON.stringify(graph)) as typeof graph)['6']!.inputs.text).toBe(prompt);
  });

  it('never mutates the template between runs', () => {
    const { t2i } = defaultComfyWorkflows();
    bindWorkflow(t2i!, { prompt: 'first', seed: 1 });
    expect(t2i!.graph['6']!.inputs.text).toBe('masterpiece best quality girl');
    expect(t2i!.graph['3']!.inputs.seed).toBe(8566257);
  });

  it('leaves unbound parameters with the template value', () => {
    const template = loadWorkflowTemplate('tiny', txt2img, { prompt: { node: '6', input: 'text' }, seed: { node: '3', input: 'seed' } }, 't2i');
    const graph = bindWorkflow(template, { prompt: 'x', seed: 1, steps: 99 });
    expect(graph['3']!.inputs.steps).toBe(20);
  });

  it('binds one value into several nodes when the binding is a list', () => {
    const template = loadWorkflowTemplate('two', txt2img, { prompt: [{ node: '6', input: 'text' }, { node: '7', input: 'text' }], seed: { node: '3', input: 'seed' } });
    const graph = bindWorkflow(template, { prompt: 'both' });
    expect([graph['6']!.inputs.text, graph['7']!.inputs.text]).toEqual(['both', 'both']);
  });

  it.each([
    [{ prompt: { node: '99', input: 'text' } }, /binding 'prompt' names node '99', which is not in the graph/],
    [{ prompt: { node: '6', input: 'txt' } }, /binding 'prompt' names input 'txt' of node '6' \(CLIPTextEncode\)/],
    [{ sampler: { node: '3', input: 'sampler_name' } }, /unknown binding 'sampler'/],
    [{ prompt: { node: 6, input: 'text' } }, /must be \{node, input\}/],
    [{ seed: { node: '3', input: 'seed' } }, /mode t2i needs a 'prompt' binding/],
  ])('refuses bad bindings at load: %j', (bindings, message) => {
    expect(() => loadWorkflowTemplate('bad', txt2img, bindings, 't2i')).toThrow(message);
    expect(() => loadWorkflowTemplate('bad', txt2img, bindings, 't2i')).toThrow(AtelierError);
  });

  it('refuses a UI-format graph', () => {
    expect(() => loadWorkflowTemplate('ui', { nodes: [], links: [] }, {})).toThrow(/node 'nodes' has no class_type or inputs/);
  });

  it('maps A1111 sampler names to sampler_name and scheduler', () => {
    expect(DEFAULT_COMFY_SAMPLERS).toMatchObject({
      Euler: { sampler_name: 'euler', scheduler: 'normal' },
      'Euler a': { sampler_name: 'euler_ancestral' },
      'DPM++ 2M': { sampler_name: 'dpmpp_2m', scheduler: 'normal' },
      'DPM++ 2M Karras': { sampler_name: 'dpmpp_2m', scheduler: 'karras' },
      DDIM: { sampler_name: 'ddim' },
    });
  });
});
