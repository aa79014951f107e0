import { UnrecoverableError } from '../../errors/signals.js';
import type { JobSpec } from '../../jobs/job-spec.js';
import { appliedLoras, type Lora } from '../../jobs/loras.js';
import { bindingRefs, type WorkflowGraph, type WorkflowTemplate } from './workflow-template.js';

/** LoraLoader's outputs: 0 is the patched MODEL, 1 the patched CLIP. */
const OUTPUTS = 2;

type Link = readonly [string, number];
const isLink = (value: unknown): value is Link => Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'number';

/**
 * Applies a job's LoRAs to a bound graph through the template's `lora` binding, which names
 * one LoraLoader node (ComfyUI's: inputs model, clip, lora_name, strength_model,
 * strength_clip; outputs MODEL, CLIP):
 *
 * - n LoRAs: the node is repeated n times in a chain — the first keeps its id and its own
 *   model/clip inputs, each next one takes the previous one's outputs — and every other node
 *   that read the original's outputs reads the last one's. Each LoRA's weight is both strengths.
 * - none: the node is bypassed — its consumers read its own model/clip inputs — and removed,
 *   so the graph ComfyUI receives is the one without LoRA support at all.
 *
 * New nodes get fresh numeric ids, as ComfyUI's editor would. `graph` is modified and returned.
 *
 * @throws UnrecoverableError `capability_unsupported` when there are LoRAs but no `lora` binding.
 * @example const graph = applyLoras(bindWorkflow(template, values), template, appliedLoras(spec))
 */
export function applyLoras(graph: WorkflowGraph, template: WorkflowTemplate, loras: readonly Lora[]): WorkflowGraph {
  const [ref] = bindingRefs(template.bindings.lora);
  if (ref === undefined) {
    if (loras.length === 0) return graph;
    throw new UnrecoverableError(`The ComfyUI workflow '${template.name}' has no 'lora' binding (a LoraLoader node), so it cannot apply LoRAs`, 'capability_unsupported');
  }
  const id = ref.node;
  const original = graph[id]!;
  const upstream: Link[] = [original.inputs.model as Link, original.inputs.clip as Link];
  if (loras.length === 0) {
    delete graph[id];
    rewire(graph, id, (output) => upstream[output]!, new Set());
    return graph;
  }
  const ids = [id, ...freshIds(graph, loras.length - 1)];
  const last = ids.at(-1)!;
  // Consumers first, while only the original exists: the chain's own links must stay.
  rewire(graph, id, (output) => [last, output], new Set([id]));
  loras.forEach((lora, i) => {
    const previous = i === 0 ? upstream : [[ids[i - 1]!, 0] as const, [ids[i - 1]!, 1] as const];
    graph[ids[i]!] = {
      ...structuredClone(original),
      inputs: { ...structuredClone(original.inputs), model: previous[0], clip: previous[1], lora_name: lora.name, strength_model: lora.weight, strength_clip: lora.weight },
    };
  });
  return graph;
}

/** {@link applyLoras} with the LoRAs a job applies: its model's own, then its request's. */
export function applyJobLoras(graph: WorkflowGraph, template: WorkflowTemplate, spec: Pick<JobSpec, 'loras' | 'backendSettings'>): WorkflowGraph {
  return applyLoras(graph, template, appliedLoras(spec));
}

/** Points every link to one of `from`'s outputs elsewhere, in every node but `skip`. */
function rewire(graph: WorkflowGraph, from: string, to: (output: number) => Link, skip: ReadonlySet<string>): void {
  for (const [nodeId, node] of Object.entries(graph)) {
    if (skip.has(nodeId)) continue;
    for (const [input, value] of Object.entries(node.inputs)) {
      if (isLink(value) && value[0] === from && value[1] < OUTPUTS) node.inputs[input] = [...to(value[1])];
    }
  }
}

/** `count` ids not in the graph, numbered after its highest numeric id. */
function freshIds(graph: WorkflowGraph, count: number): string[] {
  let next = Math.max(0, ...Object.keys(graph).map(Number).filter(Number.isInteger)) + 1;
  const ids: string[] = [];
  while (ids.length < count) {
    if (!(String(next) in graph)) ids.push(String(next));
    next += 1;
  }
  return ids;
}
