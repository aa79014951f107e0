import { setTimeout as delay } from 'node:timers/promises';
import sharp from 'sharp';
import type { WebSocket } from 'ws';
import { planGraph, type Graph, type Plan } from './fake-graph.js';
import { fakeColour, previewJpeg, solidMp4, solidPng } from './fake-media.js';

/** One-shot faults apply to the next job that starts; `slowMs` lasts until reset. */
export interface Faults {
  failNextPrompt?: number;
  slowMs: number;
  dropSocketMidJob: boolean;
  malformedHistory?: 'no-images' | 'not-png' | 'missing-file';
  nodeError: boolean;
  neverFinish: boolean;
}

/** A queued prompt: ComfyUI's tuple `(number, prompt_id, prompt, extra_data, outputs)`. */
export interface QueueItem {
  readonly number: number;
  readonly id: string;
  readonly graph: Graph;
  readonly clientId: string | undefined;
  interrupted: boolean;
}

export interface FakeState {
  readonly stepDelayMs: number;
  /** `${type}/${subfolder}/${filename}` → bytes. */
  readonly files: Map<string, Buffer>;
  readonly history: Map<string, unknown>;
  readonly pending: QueueItem[];
  running: QueueItem | undefined;
  currentNode: string | undefined;
  readonly sockets: Map<string, WebSocket>;
  readonly faults: Faults;
  closed: boolean;
  counter: number;
}

export const fileKey = (type: string, subfolder: string, filename: string) => `${type}/${subfolder}/${filename}`;
export const queueTuple = (item: QueueItem) => [item.number, item.id, item.graph, { client_id: item.clientId }, []];

/** Sends a text event to one client (ComfyUI's send_sync with a sid), or to all without one. */
export function send(state: FakeState, clientId: string | undefined, type: string, data: Record<string, unknown>): void {
  const frame = JSON.stringify({ type, data });
  const targets = clientId === undefined ? [...state.sockets.values()] : [state.sockets.get(clientId)].filter((ws) => ws !== undefined);
  for (const ws of targets) if (ws.readyState === ws.OPEN) ws.send(frame);
}

/** Runs queued prompts one at a time, like PromptQueue + PromptExecutor. */
export async function pump(state: FakeState): Promise<void> {
  if (state.running !== undefined) return;
  for (let item = state.pending.shift(); item !== undefined && !state.closed; item = state.pending.shift()) {
    state.running = item;
    try {
      await execute(state, item);
    } finally {
      state.running = undefined;
      state.currentNode = undefined;
    }
  }
}

async function execute(state: FakeState, item: QueueItem): Promise<void> {
  const faults = { ...state.faults };
  Object.assign(state.faults, { dropSocketMidJob: false, malformedHistory: undefined, nodeError: false, neverFinish: false });
  const { id, clientId } = item;
  const messages: [string, Record<string, unknown>][] = [];
  const event = (type: string, data: Record<string, unknown>, broadcast = false) => {
    const full = { ...data, prompt_id: id, timestamp: Date.now() };
    if (type.startsWith('execution_')) messages.push([type, full]);
    send(state, broadcast ? undefined : clientId, type, full);
  };
  const finish = (status: 'success' | 'error', outputs: Record<string, unknown>) => {
    state.history.set(id, { prompt: queueTuple(item), outputs, status: { status_str: status, completed: status === 'success', messages }, meta: {} });
    // main.py sends executing(null) after task_done, so history is readable by then.
    send(state, clientId, 'executing', { node: null, prompt_id: id });
  };
  const plan = planGraph(item.graph);
  event('execution_start', {});
  event('execution_cached', { nodes: [] });
  state.currentNode = plan.samplerNode;
  send(state, clientId, 'executing', { node: plan.samplerNode, display_node: plan.samplerNode, prompt_id: id });
  const node = item.graph[plan.samplerNode];
  const interrupted = () => {
    event('execution_interrupted', { node_id: plan.samplerNode, node_type: node?.class_type, executed: [] }, true);
    finish('error', {});
  };
  const preview = await previewJpeg(plan.seed);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(1, 0); // PREVIEW_IMAGE
  header.writeUInt32BE(1, 4); // JPEG
  for (let step = 1; step <= plan.steps; step += 1) {
    await delay(state.stepDelayMs);
    if (state.closed) return;
    if (item.interrupted) return interrupted();
    if (step === Math.ceil(plan.steps / 2)) {
      if (faults.nodeError) {
        event('execution_error', { node_id: plan.samplerNode, node_type: 'KSampler', executed: [], exception_message: 'CUDA error: device-side assert triggered', exception_type: 'RuntimeError', traceback: ['  File "execution.py"'], current_inputs: {}, current_outputs: {} });
        return finish('error', {});
      }
      if (faults.dropSocketMidJob && clientId !== undefined) state.sockets.get(clientId)?.terminate();
    }
    send(state, clientId, 'progress', { value: step, max: plan.steps, prompt_id: id, node: plan.samplerNode });
    if (step === 1) state.sockets.get(clientId ?? '')?.send(Buffer.concat([header, preview]), { binary: true });
  }
  while (faults.neverFinish && !item.interrupted && !state.closed) await delay(10);
  if (item.interrupted) return interrupted();
  const outputs: Record<string, unknown> = {};
  for (const save of plan.saves) {
    const files = await render(state, item.graph, plan, save, faults.malformedHistory);
    const output = save.classType === 'SaveVideo' ? { images: files, animated: [true] } : { images: files };
    state.currentNode = save.node;
    send(state, clientId, 'executing', { node: save.node, display_node: save.node, prompt_id: id });
    send(state, clientId, 'executed', { node: save.node, display_node: save.node, output, prompt_id: id });
    if (faults.malformedHistory !== 'no-images') outputs[save.node] = output;
  }
  event('execution_success', {});
  await delay(5); // execution_success goes out before task_done writes history
  finish('success', outputs);
}

async function render(state: FakeState, graph: Graph, plan: Plan, save: Plan['saves'][number], fault: Faults['malformedHistory']) {
  let size = plan.size ?? { width: 512, height: 512 };
  if (plan.loadImage !== undefined) {
    const meta = await sharp(state.files.get(fileKey('input', '', plan.loadImage))).metadata();
    size = { width: meta.width!, height: meta.height! };
  }
  const type = save.classType === 'PreviewImage' ? 'temp' : 'output';
  const files: { filename: string; subfolder: string; type: string }[] = [];
  for (let index = 0; index < plan.batch; index += 1) {
    state.counter += 1;
    const colour = fakeColour(plan.seed, index);
    const video = save.classType === 'SaveVideo';
    // Like SaveImage/SaveVideo, a prefix "video/ComfyUI" means subfolder "video".
    const slash = save.prefix.lastIndexOf('/');
    const subfolder = slash < 0 ? '' : save.prefix.slice(0, slash);
    const filename = `${save.prefix.slice(slash + 1)}_${String(state.counter).padStart(5, '0')}_.${video ? 'mp4' : 'png'}`;
    let bytes = video ? await solidMp4(size.width, size.height, plan.video?.frames ?? 8, plan.video?.fps ?? 16, colour) : await solidPng(size.width, size.height, colour, graph);
    if (fault === 'not-png' && !video) bytes = await sharp(bytes).jpeg().toBuffer();
    if (fault !== 'missing-file') state.files.set(fileKey(type, subfolder, filename), bytes);
    files.push({ filename, subfolder, type });
  }
  return files;
}
