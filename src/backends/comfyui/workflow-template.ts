import { readFileSync } from 'node:fs';
import { AtelierError } from '../../errors/atelier-error.js';
import type { Mode } from '../../jobs/job-spec.js';

/** One node of an API-format ComfyUI graph (what "Save (API)" exports and POST /prompt takes). */
export interface WorkflowNode {
  readonly class_type: string;
  /** Literals, or links to another node's output as `[sourceNodeId, outputIndex]`. */
  readonly inputs: Record<string, unknown>;
  readonly _meta?: { readonly title?: string };
}

/** An API-format graph: node id → node. */
export type WorkflowGraph = Record<string, WorkflowNode>;

/** Where one parameter goes: a node id and the name of one of its inputs. */
export interface InputRef {
  readonly node: string;
  readonly input: string;
}

/**
 * The parameters a template can take; each is bound by node id and input name. `vae` is a
 * VAELoader's `vae_name`, `clip_skip` a CLIPSetLastLayer's `stop_at_clip_layer` (bound as
 * −clipSkip). `lora` is different: it names a LoraLoader node (by its `lora_name` input) that
 * apply-loras.ts clones once per LoRA, or bypasses when there are none.
 */
export const BINDING_NAMES = [
  'prompt', 'negative_prompt', 'seed', 'steps', 'cfg', 'sampler_name', 'scheduler',
  'width', 'height', 'batch_size', 'denoise', 'checkpoint', 'image',
  'start_image', 'end_image', 'frames', 'fps', 'vae', 'clip_skip', 'lora',
] as const;
export type BindingName = (typeof BINDING_NAMES)[number];
/** The bindings that take one value each (all but `lora`, which names a node to repeat). */
export type ValueBindingName = Exclude<BindingName, 'lora'>;

/** The inputs of ComfyUI's LoraLoader; `model` and `clip` must be links for the chain to be rewired. */
export const LORA_LOADER_INPUTS = ['model', 'clip', 'lora_name', 'strength_model', 'strength_clip'] as const;

/**
 * Which node input receives each parameter. A list binds the same value into several nodes
 * (a seed shared by a base and a refiner sampler). Unbound parameters keep the template's value.
 */
export type WorkflowBindings = Partial<Record<BindingName, InputRef | readonly InputRef[]>>;

/** A validated template: the graph is never mutated; every run binds into a deep clone. */
export interface WorkflowTemplate {
  readonly name: string;
  readonly graph: Readonly<WorkflowGraph>;
  readonly bindings: WorkflowBindings;
}

/** What each mode cannot run without; the rest is optional. */
const REQUIRED: Record<Mode, readonly BindingName[]> = {
  t2i: ['prompt', 'seed'],
  i2i: ['prompt', 'seed', 'image'],
  t2v: ['prompt', 'seed'],
  i2v: ['prompt', 'seed', 'start_image'],
  ti2v: ['prompt', 'seed', 'start_image'],
};

const fail = (name: string, message: string): never => {
  throw new AtelierError('config_invalid', `Invalid ComfyUI workflow '${name}': ${message}`, { field: 'workflows' });
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The refs of one binding, as a list. */
export function bindingRefs(binding: InputRef | readonly InputRef[] | undefined): readonly InputRef[] {
  if (binding === undefined) return [];
  return Array.isArray(binding) ? binding : [binding as InputRef];
}

function checkGraph(name: string, graph: unknown): WorkflowGraph {
  if (!isObject(graph) || Object.keys(graph).length === 0) fail(name, 'expected an API-format graph object ({nodeId: {class_type, inputs}}); use "Save (API)" in ComfyUI');
  for (const [id, node] of Object.entries(graph as Record<string, unknown>)) {
    if (!isObject(node) || typeof node.class_type !== 'string' || !isObject(node.inputs)) {
      fail(name, `node '${id}' has no class_type or inputs; is this the UI format rather than the API format?`);
    }
  }
  return graph as WorkflowGraph;
}

const isLink = (value: unknown) => Array.isArray(value) && value.length === 2 && typeof value[1] === 'number';

function checkLoraBinding(name: string, graph: WorkflowGraph, binding: InputRef | readonly InputRef[]): void {
  const refs = bindingRefs(binding);
  if (refs.length !== 1) fail(name, "binding 'lora' must name one LoraLoader node, not a list");
  const { node } = refs[0]!;
  const inputs = graph[node]!.inputs;
  const missing = LORA_LOADER_INPUTS.filter((input) => !(input in inputs));
  if (missing.length > 0) fail(name, `binding 'lora' names node '${node}' (${graph[node]!.class_type}), which lacks the LoraLoader inputs ${missing.join(', ')}`);
  if (!isLink(inputs.model) || !isLink(inputs.clip)) fail(name, `binding 'lora' names node '${node}', whose model and clip inputs must be links to other nodes`);
}

/**
 * Validates a graph and its bindings and returns a template. Every binding must name an
 * existing node and one of that node's inputs, so a typo fails at start-up, not on a job.
 *
 * @throws AtelierError `config_invalid` naming the template, the binding, the node and the input.
 * @example const t2i = loadWorkflowTemplate('sdxl', graph, { prompt: { node: '6', input: 'text' }, seed: { node: '3', input: 'seed' } }, 't2i')
 */
export function loadWorkflowTemplate(name: string, graph: unknown, bindings: unknown, mode?: Mode): WorkflowTemplate {
  const checked = checkGraph(name, graph);
  if (!isObject(bindings)) fail(name, 'expected bindings as an object {parameter: {node, input}}');
  for (const [param, binding] of Object.entries(bindings as Record<string, unknown>)) {
    if (!(BINDING_NAMES as readonly string[]).includes(param)) fail(name, `unknown binding '${param}'; expected one of ${BINDING_NAMES.join(', ')}`);
    const refs = Array.isArray(binding) ? binding : [binding];
    if (refs.length === 0) fail(name, `binding '${param}' is an empty list`);
    for (const ref of refs) {
      if (!isObject(ref) || typeof ref.node !== 'string' || typeof ref.input !== 'string') fail(name, `binding '${param}' must be {node, input} with string values`);
      const { node, input } = ref as unknown as InputRef;
      const target = checked[node];
      if (target === undefined) fail(name, `binding '${param}' names node '${node}', which is not in the graph (nodes: ${Object.keys(checked).join(', ')})`);
      else if (!(input in target.inputs)) fail(name, `binding '${param}' names input '${input}' of node '${node}' (${target.class_type}), which has inputs ${Object.keys(target.inputs).join(', ')}`);
    }
  }
  const typed = bindings as WorkflowBindings;
  if (typed.lora !== undefined) checkLoraBinding(name, checked, typed.lora);
  for (const required of mode === undefined ? [] : REQUIRED[mode]) {
    if (typed[required] === undefined) fail(name, `mode ${mode} needs a '${required}' binding`);
  }
  return Object.freeze({ name, graph: structuredClone(checked), bindings: structuredClone(typed) });
}

/**
 * Reads a template from two JSON files: the API-format graph and its bindings (a top-level
 * `$comment` in the bindings file is allowed, for the header naming its inputs). Synchronous
 * because it runs once at start-up, where backends are built.
 *
 * @throws AtelierError `config_invalid` naming the file when it is missing or not JSON.
 * @example const t = loadWorkflowTemplateFiles('flux.api.json', 'flux.bindings.json', 't2i')
 */
export function loadWorkflowTemplateFiles(graphFile: string, bindingsFile: string, mode?: Mode): WorkflowTemplate {
  const read = (file: string): unknown => {
    try {
      return JSON.parse(readFileSync(file, 'utf8'));
    } catch (cause) {
      throw new AtelierError('config_invalid', `Invalid ComfyUI workflow file ${file}: ${(cause as Error).message}`, { field: 'workflows', cause });
    }
  };
  const graph = read(graphFile);
  const bindings = read(bindingsFile);
  const fields = isObject(bindings) ? Object.fromEntries(Object.entries(bindings).filter(([key]) => key !== '$comment')) : bindings;
  return loadWorkflowTemplate(graphFile, graph, fields, mode);
}
