import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import txt2img from '../../../src/backends/comfyui/workflows/sd15-txt2img.api.json' with { type: 'json' };
import { startFakeComfyUI, type FakeComfyUI } from '../../helpers/fake-comfyui/fake-comfyui.js';

/** The fake must speak PROTOCOLS.md §1, or the adapter tests prove nothing. */
describe('fake ComfyUI server', () => {
  let fake: FakeComfyUI;
  beforeEach(async () => {
    fake = await startFakeComfyUI({ stepDelayMs: 1 });
  });
  afterEach(() => fake.close());

  const post = (path: string, body: unknown) => fetch(`${fake.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('serves every route bare and under /api', async () => {
    for (const path of ['/system_stats', '/api/system_stats', '/prompt', '/api/queue', '/history/x', '/api/history/x']) {
      expect((await fetch(`${fake.url}${path}`)).status, path).toBe(200);
    }
  });

  it('answers 400 invalid_prompt for a node without class_type, naming the node', async () => {
    const res = await post('/api/prompt', { prompt: { '3': { inputs: {} } }, client_id: 'c' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { type: 'invalid_prompt', message: 'Cannot execute because a node is missing the class_type property.', details: "Node ID '#3'", extra_info: {} },
      node_errors: {},
    });
  });

  it('answers 400 with node_errors for an input that fails validation', async () => {
    const graph = structuredClone(txt2img);
    graph['3'].inputs.sampler_name = 'nope';
    const body = (await (await post('/prompt', { prompt: graph })).json()) as { error: { type: string }; node_errors: Record<string, { class_type: string; errors: { type: string }[] }> };
    expect(body.error.type).toBe('prompt_outputs_failed_validation');
    expect(body.node_errors['3']).toMatchObject({ class_type: 'KSampler', errors: [{ type: 'value_not_in_list' }], dependent_outputs: ['9'] });
  });

  it('refuses a prompt_id that is not a canonical lowercase UUID', async () => {
    const body = (await (await post('/prompt', { prompt: txt2img, prompt_id: 'ABC' })).json()) as { error: { type: string } };
    expect(body.error.type).toBe('invalid_prompt_id');
  });

  it('sends status on connect, then the job events in order, and history only at the end', async () => {
    const ws = new WebSocket(`${fake.url.replace('http', 'ws')}/ws?clientId=abc`);
    const events: string[] = [];
    let binary = 0;
    ws.on('message', (data, isBinary) => {
      if (isBinary) return void (binary += 1);
      events.push((JSON.parse(String(data)) as { type: string }).type);
    });
    await new Promise((resolve) => ws.once('open', resolve));
    const graph = structuredClone(txt2img);
    graph['3'].inputs.steps = 3;
    const promptId = crypto.randomUUID();
    expect(await (await post('/prompt', { prompt: graph, client_id: 'abc', prompt_id: promptId })).json()).toMatchObject({ prompt_id: promptId, node_errors: {} });
    await expect.poll(() => events.at(-1)).toBe('executing');
    await expect.poll(async () => Object.keys((await (await fetch(`${fake.url}/history/${promptId}`)).json()) as object)).toEqual([promptId]);
    expect(events).toEqual(['status', 'execution_start', 'execution_cached', 'executing', 'progress', 'progress', 'progress', 'executing', 'executed', 'execution_success', 'executing']);
    expect(binary).toBe(1);
    ws.close();
  });

  it('names a clashing upload " (1)" unless told to overwrite', async () => {
    const upload = async (bytes: string, overwrite?: string) => {
      const form = new FormData();
      form.append('image', new Blob([bytes]), 'ref.png');
      if (overwrite) form.append('overwrite', overwrite);
      return (await (await fetch(`${fake.url}/upload/image`, { method: 'POST', body: form })).json()) as { name: string };
    };
    expect((await upload('a')).name).toBe('ref.png');
    expect((await upload('b')).name).toBe('ref (1).png');
    expect((await upload('c', 'true')).name).toBe('ref.png');
  });
});
