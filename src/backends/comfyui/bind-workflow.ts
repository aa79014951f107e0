import { bindingRefs, type BindingName, type ValueBindingName, type WorkflowGraph, type WorkflowTemplate } from './workflow-template.js';

/** Values to bind; `undefined` leaves the template's own value. LoRAs go through applyLoras. */
export type BindingValues = Partial<Record<ValueBindingName, string | number | undefined>>;

/**
 * Binds parameters into a deep clone of the template's graph by node id and input name.
 * Values are set as JS values on objects, never spliced into JSON text, so a prompt holding
 * quotes, braces or newlines arrives verbatim and cannot change the graph's shape.
 *
 * @example const graph = bindWorkflow(template, { prompt: 'a "quoted" {prompt}', seed: 42 })
 */
export function bindWorkflow(template: WorkflowTemplate, values: BindingValues): WorkflowGraph {
  const graph = structuredClone(template.graph) as WorkflowGraph;
  for (const [name, value] of Object.entries(values) as [ValueBindingName, string | number | undefined][]) {
    if (value === undefined) continue;
    // loadWorkflowTemplate checked every ref, so the node and input exist.
    for (const { node, input } of bindingRefs(template.bindings[name])) graph[node]!.inputs[input] = value;
  }
  return graph;
}

/** True when the template has somewhere to put this parameter. */
export function hasBinding(template: WorkflowTemplate, name: BindingName): boolean {
  return template.bindings[name] !== undefined;
}
