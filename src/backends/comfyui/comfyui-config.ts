import { isAbsolute, resolve } from 'node:path';
import { Type, type Static } from 'typebox';
import { MODES, type Mode } from '../../jobs/job-spec.js';
import { loadWorkflowTemplateFiles, type WorkflowTemplate } from './workflow-template.js';

const WorkflowFilesSchema = Type.Object(
  {
    /** An API-format graph ("Save (API)" in ComfyUI). */
    graph: Type.String({ minLength: 1 }),
    /** `{parameter: {node, input}}`; the parameter names are BINDING_NAMES in workflow-template.ts. */
    bindings: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);

/**
 * `backends.<name>.workflows` of a `comfyui` backend: one template per mode, as two JSON
 * files each. The modes listed are the backend's modes; when the key is absent the built-in
 * SD1.5 t2i and i2i templates are used.
 *
 * @example { "t2i": { "graph": "workflows/sdxl.api.json", "bindings": "workflows/sdxl.bindings.json" } }
 */
export const ComfyUIWorkflowFilesSchema = Type.Object(
  {
    t2i: Type.Optional(WorkflowFilesSchema),
    i2i: Type.Optional(WorkflowFilesSchema),
    t2v: Type.Optional(WorkflowFilesSchema),
    i2v: Type.Optional(WorkflowFilesSchema),
    ti2v: Type.Optional(WorkflowFilesSchema),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type ComfyUIWorkflowFiles = Static<typeof ComfyUIWorkflowFilesSchema>;

/**
 * `backends.<name>.samplers` of a `comfyui` backend: Atelier sampler name → ComfyUI's
 * `sampler_name` and `scheduler`. Replaces the default map; the first entry is the default.
 *
 * @example { "Euler": { "sampler_name": "euler", "scheduler": "normal" }, "UniPC": { "sampler_name": "uni_pc", "scheduler": "simple" } }
 */
export const ComfyUISamplersSchema = Type.Record(
  Type.String({ minLength: 1 }),
  Type.Object({ sampler_name: Type.String({ minLength: 1 }), scheduler: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  { minProperties: 1 },
);

/**
 * Reads the configured workflow files once at start-up (templates are immutable, so every
 * instance of the backend can share them). Relative paths resolve against `baseDir`,
 * normally the config file's directory.
 *
 * @throws AtelierError `config_invalid` naming the file, binding, node or input at fault.
 * @example createComfyUIBackend({ url, timeouts, workflows: loadComfyWorkflows(settings.workflows, dirname(configFile)) })
 */
export function loadComfyWorkflows(files: ComfyUIWorkflowFiles, baseDir = process.cwd()): Partial<Record<Mode, WorkflowTemplate>> {
  const at = (file: string) => (isAbsolute(file) ? file : resolve(baseDir, file));
  const workflows: Partial<Record<Mode, WorkflowTemplate>> = {};
  for (const mode of MODES) {
    const entry = files[mode];
    if (entry !== undefined) workflows[mode] = loadWorkflowTemplateFiles(at(entry.graph), at(entry.bindings), mode);
  }
  return workflows;
}
