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

/**
 * Which ComfyUI the fake behaves like, on the points where they differ (peers/comfyui README):
 * - `current` (0.3.6x, 2025-10): /interrupt honours `prompt_id`; previews are type-4 frames
 *   tagged with their prompt for clients that announce `supports_preview_metadata`; it sends
 *   `progress_state`.
 * - `v0.1.0` (2024-08): /interrupt stops whatever is running, another client's prompt too;
 *   /history says `status_str: "success"` for interrupted and failed prompts.
 * - `2023` (a 2023-09 commit): the global /interrupt; `progress` without prompt_id or node;
 *   a client's prompt_id ignored; no `execution_success`; /history without `status`.
 */
export type FakeVersion = 'current' | 'v0.1.0' | '2023';

export interface FakeState {
  readonly version: FakeVersion;
  readonly stepDelayMs: number;
  /** Longest side of the preview frames it sends (SaveImageWebsocket sends full size). */
  readonly previewSide: number;
  /** Client ids that announced `supports_preview_metadata`. */
  readonly previewMetadata: Set<string>;
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
    const full = { ...data, prompt_id: id, ...(state.version === '2023' ? {} : { timestamp: Date.now() }) };
    if (type.startsWith('execution_')) messages.push([type, full]);
    send(state, broadcast ? undefined : clientId, type, full);
  };
  const finish = (status: 'success' | 'error', outputs: Record<string, unknown>) => {
    const recorded = state.version === 'v0.1.0' ? 'success' : status; // v0.1.0's history lies
    const entry = { prompt: queueTuple(item), outputs, status: { status_str: recorded, completed: recorded === 'success', messages }, meta: {} };
    if (state.version === '2023') delete (entry as { status?: unknown }).status;
    state.history.set(id, entry);
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
  const preview = await previewJpeg(plan.seed, state.previewSide);
  const previewFrame = () => {
    if (state.version !== 'current' || !state.previewMetadata.has(clientId ?? '')) {
      const header = Buffer.alloc(8);
      header.writeUInt32BE(1, 0); // PREVIEW_IMAGE
      header.writeUInt32BE(1, 4); // JPEG
      return Buffer.concat([header, preview]);
    }
    const metadata = Buffer.from(JSON.stringify({ node_id: plan.samplerNode, prompt_id: id, display_node_id: plan.samplerNode, parent_node_id: null, real_node_id: plan.samplerNode, image_type: 'image/jpeg' }));
    const header = Buffer.alloc(8);
    header.writeUInt32BE(4, 0); // PREVIEW_IMAGE_WITH_METADATA
    header.writeUInt32BE(metadata.length, 4);
    return Buffer.concat([header, metadata, preview]);
  };
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
    // Before 2024-01, main.py's progress hook knew neither the prompt nor the node.
    send(state, clientId, 'progress', state.version === '2023' ? { value: step, max: plan.steps } : { value: step, max: plan.steps, prompt_id: id, node: plan.samplerNode });
    if (state.version === 'current') send(state, clientId, 'progress_state', { prompt_id: id, nodes: { [plan.samplerNode]: { value: step, max: plan.steps, state: 'running', node_id: plan.samplerNode, prompt_id: id } } });
    if (step === 1 || state.previewSide > 64) state.sockets.get(clientId ?? '')?.send(previewFrame(), { binary: true });
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
  if (state.version !== '2023') event('execution_success', {});
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
