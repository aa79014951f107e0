import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ComfyUISamplersSchema, ComfyUIWorkflowFilesSchema, loadComfyWorkflows } from '../../../src/backends/comfyui/comfyui-config.js';
import txt2img from '../../../src/backends/comfyui/workflows/sd15-txt2img.api.json' with { type: 'json' };
import { createAjv } from '../../../src/validation/create-ajv.js';
import { makeTempDir } from '../../helpers/temp-dir.js';

describe('ComfyUI backend configuration', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  beforeEach(async () => {
    temp = await makeTempDir();
  });
  afterEach(() => temp.remove());

  it('validates the workflows and samplers keys', () => {
    const workflows = createAjv('coercing').compile(ComfyUIWorkflowFilesSchema);
    expect(workflows({ t2i: { graph: 'a.json', bindings: 'b.json' } })).toBe(true);
    expect(workflows({})).toBe(false);
    expect(workflows({ t2x: { graph: 'a.json', bindings: 'b.json' } })).toBe(false);
    expect(workflows({ t2i: { graph: 'a.json' } })).toBe(false);
    const samplers = createAjv('coercing').compile(ComfyUISamplersSchema);
    expect(samplers({ UniPC: { sampler_name: 'uni_pc', scheduler: 'simple' } })).toBe(true);
    expect(samplers({ UniPC: { sampler_name: 'uni_pc' } })).toBe(false);
  });

  it('loads workflow files relative to baseDir, allowing a $comment header', async () => {
    await writeFile(join(temp.dir, 'g.api.json'), JSON.stringify(txt2img));
    await writeFile(join(temp.dir, 'g.bindings.json'), JSON.stringify({ $comment: 'prompt → 6.text; seed → 3.seed', prompt: { node: '6', input: 'text' }, seed: { node: '3', input: 'seed' } }));
    const workflows = loadComfyWorkflows({ t2i: { graph: 'g.api.json', bindings: 'g.bindings.json' } }, temp.dir);
    expect(Object.keys(workflows)).toEqual(['t2i']);
    expect(workflows.t2i!.bindings).toEqual({ prompt: { node: '6', input: 'text' }, seed: { node: '3', input: 'seed' } });
  });

  it('names the file when a workflow cannot be read', () => {
    expect(() => loadComfyWorkflows({ t2i: { graph: 'missing.json', bindings: 'b.json' } }, temp.dir)).toThrow(/Invalid ComfyUI workflow file .*missing\.json/);
  });

  it('names the binding when a workflow file binds a node that is not there', async () => {
    await writeFile(join(temp.dir, 'g.api.json'), JSON.stringify(txt2img));
    await writeFile(join(temp.dir, 'g.bindings.json'), JSON.stringify({ prompt: { node: '66', input: 'text' }, seed: { node: '3', input: 'seed' } }));
    expect(() => loadComfyWorkflows({ t2i: { graph: 'g.api.json', bindings: 'g.bindings.json' } }, temp.dir)).toThrow(/binding 'prompt' names node '66'/);
  });
});
