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
    expect(events).toEqual(['status', 'execution_start', 'execution_cached', 'executing', ...Array(3).fill(['progress', 'progress_state']).flat(), 'executing', 'executed', 'execution_success', 'executing']);
    expect(binary).toBe(1);
    ws.close();
  });

  describe('older versions, as the real ones behave (peers/comfyui README)', () => {
    /** Runs a slow prompt as client `sid` and returns its id, once it is running. */
    async function runningPrompt(server: FakeComfyUI, sid: string): Promise<string> {
      const graph = structuredClone(txt2img);
      graph['3'].inputs.steps = 500;
      const { prompt_id: id } = (await (await fetch(`${server.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt: graph, client_id: sid, prompt_id: crypto.randomUUID() }) })).json()) as { prompt_id: string };
      await expect.poll(async () => ((await (await fetch(`${server.url}/queue`)).json()) as { queue_running: unknown[][] }).queue_running[0]?.[1]).toBe(id);
      return id;
    }
    const historyOf = async (server: FakeComfyUI, id: string) => {
      let entry: Record<string, unknown> | undefined;
      await expect.poll(async () => (entry = ((await (await fetch(`${server.url}/history/${id}`)).json()) as Record<string, Record<string, unknown>>)[id])).toBeDefined();
      return entry!;
    };

    it('current: /interrupt with another prompt_id leaves the running prompt alone', async () => {
      const id = await runningPrompt(fake, 'other');
      await post('/interrupt', { prompt_id: crypto.randomUUID() });
      await post('/interrupt', { prompt_id: id });
      expect((await historyOf(fake, id)).status).toMatchObject({ status_str: 'error', messages: expect.arrayContaining([['execution_interrupted', expect.anything()]]) });
    });

    it('v0.1.0: /interrupt stops whatever runs, whatever prompt_id it names, and history says success', async () => {
      const old = await startFakeComfyUI({ stepDelayMs: 1, version: 'v0.1.0' });
      try {
        const id = await runningPrompt(old, 'other');
        await fetch(`${old.url}/interrupt`, { method: 'POST', body: JSON.stringify({ prompt_id: crypto.randomUUID() }) });
        const entry = await historyOf(old, id);
        expect(entry.status).toMatchObject({ status_str: 'success', messages: expect.arrayContaining([['execution_interrupted', expect.anything()]]) });
        expect(entry.outputs).toEqual({});
      } finally {
        await old.close();
      }
    });

    it('2023: progress without prompt_id or node, its own prompt ids, no execution_success, history without status', async () => {
      const old = await startFakeComfyUI({ stepDelayMs: 1, version: '2023' });
      try {
        const ws = new WebSocket(`${old.url.replace('http', 'ws')}/ws?clientId=abc`);
        const events: { type: string; data: Record<string, unknown> }[] = [];
        ws.on('message', (data, isBinary) => void (isBinary || events.push(JSON.parse(String(data)) as (typeof events)[number])));
        await new Promise((resolve) => ws.once('open', resolve));
        const mine = crypto.randomUUID();
        const { prompt_id: id } = (await (await fetch(`${old.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt: txt2img, client_id: 'abc', prompt_id: mine }) })).json()) as { prompt_id: string };
        expect(id).not.toBe(mine);
        const entry = await historyOf(old, id);
        expect(entry).not.toHaveProperty('status');
        expect(Object.keys(entry.outputs as object)).toEqual(['9']);
        const progress = events.filter((e) => e.type === 'progress');
        expect(progress.length).toBeGreaterThan(0);
        for (const e of progress) expect(Object.keys(e.data).sort()).toEqual(['max', 'value']);
        expect(events.map((e) => e.type)).not.toContain('execution_success');
        ws.close();
      } finally {
        await old.close();
      }
    });

    it('current: previews are type-4 frames tagged with the prompt for a client that announces supports_preview_metadata', async () => {
      const ws = new WebSocket(`${fake.url.replace('http', 'ws')}/ws?clientId=flags`);
      const frames: Buffer[] = [];
      const flags: unknown[] = [];
      ws.on('message', (data, isBinary) => {
        if (isBinary) frames.push(data as Buffer);
        else if ((JSON.parse(String(data)) as { type: string }).type === 'feature_flags') flags.push(data);
      });
      await new Promise((resolve) => ws.once('open', resolve));
      ws.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
      await expect.poll(() => flags.length).toBe(1);
      const promptId = crypto.randomUUID();
      await post('/prompt', { prompt: txt2img, client_id: 'flags', prompt_id: promptId });
      await expect.poll(() => frames.length).toBeGreaterThan(0);
      expect(frames[0]!.readUInt32BE(0)).toBe(4);
      const length = frames[0]!.readUInt32BE(4);
      expect(JSON.parse(frames[0]!.toString('utf8', 8, 8 + length))).toMatchObject({ prompt_id: promptId, image_type: 'image/jpeg' });
      ws.close();
    });
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
