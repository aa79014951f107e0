/**
 * How the fake ComfyUI judges and "runs" a graph: the checks POST /prompt makes (server.py
 * validate_prompt, simplified) and the few node classes it knows how to interpret.
 */
import { randomBytes } from 'node:crypto';

export type Graph = Record<string, { class_type?: unknown; inputs?: Record<string, unknown> }>;

export const SAMPLERS = ['euler', 'euler_ancestral', 'heun', 'dpm_2', 'dpmpp_2m', 'dpmpp_sde', 'ddim', 'uni_pc', 'lcm'];
export const SCHEDULERS = ['simple', 'sgm_uniform', 'karras', 'exponential', 'ddim_uniform', 'beta', 'normal', 'linear_quadratic', 'kl_optimal'];
const OUTPUT_CLASSES = new Set(['SaveImage', 'PreviewImage', 'SaveVideo']);
const KNOWN_CLASSES = new Set([
  ...OUTPUT_CLASSES, 'KSampler', 'CheckpointLoaderSimple', 'EmptyLatentImage', 'CLIPTextEncode', 'VAEDecode', 'VAEEncode',
  'LoadImage', 'EmptyHunyuanLatentVideo', 'CreateVideo', 'LoraLoader', 'VAELoader', 'CLIPSetLastLayer',
]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export interface Rejection {
  readonly error: { type: string; message: string; details: string; extra_info: Record<string, unknown> };
  readonly node_errors: Record<string, unknown>;
}

const reject = (type: string, message: string, details = '', nodeErrors: Record<string, unknown> = {}): Rejection => ({
  error: { type, message, details, extra_info: {} },
  node_errors: nodeErrors,
});

/** The 400 body ComfyUI would answer for this POST /prompt, or undefined when it is accepted. */
export function validatePrompt(body: Record<string, unknown>, inputFiles: ReadonlySet<string>): Rejection | undefined {
  const graph = body.prompt as Graph | undefined;
  if (typeof graph !== 'object' || graph === null) return reject('no_prompt', 'No prompt provided', 'No prompt provided');
  if (body.prompt_id !== undefined && (typeof body.prompt_id !== 'string' || !UUID.test(body.prompt_id))) {
    return reject('invalid_prompt_id', 'Invalid prompt_id', `'${String(body.prompt_id)}' is not a canonical lowercase UUID`);
  }
  for (const [id, node] of Object.entries(graph)) {
    if (typeof node?.class_type !== 'string') return reject('invalid_prompt', 'Cannot execute because a node is missing the class_type property.', `Node ID '#${id}'`);
    if (!KNOWN_CLASSES.has(node.class_type)) return reject('invalid_prompt', `Cannot execute because node ${node.class_type} does not exist.`, `Node ID '#${id}'`);
  }
  const outputs = Object.keys(graph).filter((id) => OUTPUT_CLASSES.has(graph[id]!.class_type as string));
  if (outputs.length === 0) return reject('prompt_no_outputs', 'Prompt has no outputs', '');
  const nodeErrors: Record<string, unknown> = {};
  const invalid = (id: string, type: string, message: string, details: string, input: string) => {
    nodeErrors[id] = { errors: [{ type, message, details, extra_info: { input_name: input } }], dependent_outputs: outputs, class_type: graph[id]!.class_type };
  };
  for (const [id, node] of Object.entries(graph)) {
    const inputs = node.inputs ?? {};
    for (const [name, value] of Object.entries(inputs)) {
      if (Array.isArray(value) && graph[String(value[0])] === undefined) invalid(id, 'bad_linked_input', 'Bad linked input, must be a length-2 list of [string, int]', `${name}: ${JSON.stringify(value)}`, name);
    }
    if (node.class_type === 'KSampler') {
      if (!SAMPLERS.includes(String(inputs.sampler_name))) invalid(id, 'value_not_in_list', 'Value not in list', `sampler_name: '${String(inputs.sampler_name)}' not in [${SAMPLERS.join(', ')}]`, 'sampler_name');
      else if (!SCHEDULERS.includes(String(inputs.scheduler))) invalid(id, 'value_not_in_list', 'Value not in list', `scheduler: '${String(inputs.scheduler)}' not in [${SCHEDULERS.join(', ')}]`, 'scheduler');
    }
    if (node.class_type === 'LoadImage' && !inputFiles.has(String(inputs.image))) {
      invalid(id, 'custom_validation_failed', 'Custom validation failed for node', `image - Invalid image file: ${String(inputs.image)}`, 'image');
    }
  }
  if (Object.keys(nodeErrors).length > 0) return reject('prompt_outputs_failed_validation', 'Prompt outputs failed validation', '', nodeErrors);
  return undefined;
}

/** The 400 body of a graph whose KSampler names a sampler the server lacks, whatever was sent. */
export function forcedRejection(): Rejection {
  const details = `sampler_name: 'euler_cfg_pp' not in [${SAMPLERS.join(', ')}]`;
  return reject('prompt_outputs_failed_validation', 'Prompt outputs failed validation', '', {
    3: { errors: [{ type: 'value_not_in_list', message: 'Value not in list', details, extra_info: { input_name: 'sampler_name' } }], dependent_outputs: ['9'], class_type: 'KSampler' },
  });
}

/** What the fake renders for a graph: read from its KSampler, latent and save nodes. */
export interface Plan {
  readonly samplerNode: string;
  readonly seed: number;
  readonly steps: number;
  readonly batch: number;
  /** Set for EmptyLatentImage / EmptyHunyuanLatentVideo; img2img takes the LoadImage file's size. */
  readonly size?: { width: number; height: number };
  /** LoadImage's file name (img2img). */
  readonly loadImage?: string;
  readonly video?: { frames: number; fps: number };
  readonly saves: readonly { node: string; prefix: string; classType: string }[];
}

const linked = (graph: Graph, value: unknown) => (Array.isArray(value) ? graph[String(value[0])] : undefined);

/** Reads the plan of an accepted graph (validatePrompt has passed). */
export function planGraph(graph: Graph): Plan {
  const entries = Object.entries(graph);
  const [samplerNode, sampler] = entries.find(([, n]) => n.class_type === 'KSampler') ?? ['', { inputs: {} }];
  const inputs = sampler.inputs ?? {};
  const latent = linked(graph, inputs.latent_image);
  const latentInputs = latent?.inputs ?? {};
  const pixels = latent?.class_type === 'VAEEncode' ? linked(graph, latentInputs.pixels) : undefined;
  const create = entries.find(([, n]) => n.class_type === 'CreateVideo')?.[1];
  const isSizedLatent = latent?.class_type === 'EmptyLatentImage' || latent?.class_type === 'EmptyHunyuanLatentVideo';
  return {
    samplerNode,
    seed: Number(inputs.seed ?? 0),
    steps: Number(inputs.steps ?? 1),
    batch: Number(latentInputs.batch_size ?? 1),
    ...(isSizedLatent ? { size: { width: Number(latentInputs.width), height: Number(latentInputs.height) } } : {}),
    ...(pixels?.class_type === 'LoadImage' ? { loadImage: String(pixels.inputs?.image) } : {}),
    ...(latent?.class_type === 'EmptyHunyuanLatentVideo' ? { video: { frames: Number(latentInputs.length), fps: Number(create?.inputs?.fps ?? 16) } } : {}),
    saves: entries
      .filter(([, n]) => OUTPUT_CLASSES.has(n.class_type as string))
      .map(([node, n]) => ({ node, prefix: String(n.inputs?.filename_prefix ?? 'ComfyUI'), classType: n.class_type as string })),
  };
}

/** A client id like ComfyUI's own when the socket is opened without one. */
export const randomSid = () => randomBytes(16).toString('hex');
