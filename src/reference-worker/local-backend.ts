import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Backend } from '../backends/backend.js';
import { createBuiltinBackend } from '../backends/builtin/builtin-backend.js';
import { createAjv } from '../validation/create-ajv.js';

/** The local backends `atelier worker --backend` can drive. */
export const LOCAL_BACKEND_KINDS = ['builtin', 'comfyui', 'a1111'] as const;
export type LocalBackendKind = (typeof LOCAL_BACKEND_KINDS)[number];

export interface LocalBackendOptions {
  /** ComfyUI / A1111 base URL on the worker's machine. */
  readonly url?: string;
  /**
   * Checkpoint to load (ComfyUI: bound into each template; A1111: override_settings) when the
   * job's model names none in its backend settings (the claim's spec.backendSettings).
   */
  readonly checkpoint?: string;
  /** ComfyUI: a JSON file `{t2i: {graph, bindings}, …}` of API-format workflow templates (paths relative to it). */
  readonly workflowsFile?: string;
  /** Longest one generation may take. */
  readonly generationTimeoutMs?: number;
}

const CONNECT_MS = 10_000;
const GENERATION_MS = 30 * 60_000;

/**
 * The Backend a reference worker renders with: the built-in preview renderer, or an adapter
 * to a ComfyUI / AUTOMATIC1111 server on the worker's machine. Adapters are imported only
 * when asked for, so a builtin worker loads none of them.
 */
export async function loadLocalBackend(kind: LocalBackendKind, options: LocalBackendOptions = {}): Promise<Backend> {
  const timeouts = { connectMs: CONNECT_MS, generationMs: options.generationTimeoutMs ?? GENERATION_MS };
  switch (kind) {
    case 'builtin':
      return createBuiltinBackend();
    case 'comfyui': {
      const url = required(kind, options.url);
      const { createComfyUIBackend } = await import('../backends/comfyui/comfyui-backend.js');
      const workflows = options.workflowsFile ? await loadWorkflows(options.workflowsFile) : undefined;
      return createComfyUIBackend({ url, timeouts, ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}), ...(workflows ? { workflows } : {}) });
    }
    case 'a1111': {
      const url = required(kind, options.url);
      const { createA1111Backend } = await import('../backends/a1111/a1111-backend.js');
      return createA1111Backend({ url, timeouts, ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}) });
    }
  }
}

function required(kind: string, url: string | undefined): string {
  if (!url) throw new Error(`--backend ${kind} needs --url (the local ${kind === 'comfyui' ? 'ComfyUI, e.g. http://127.0.0.1:8188' : 'AUTOMATIC1111, e.g. http://127.0.0.1:7860'})`);
  return url;
}

async function loadWorkflows(file: string) {
  const { ComfyUIWorkflowFilesSchema, loadComfyWorkflows } = await import('../backends/comfyui/comfyui-config.js');
  const path = resolve(file);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read the workflows file ${path}: ${(error as Error).message}`);
  }
  const validate = createAjv('strict').compile(ComfyUIWorkflowFilesSchema);
  if (!validate(parsed)) throw new Error(`The workflows file ${path} is invalid: ${validate.errors?.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ')}`);
  return loadComfyWorkflows(parsed as Parameters<typeof loadComfyWorkflows>[0], dirname(path));
}
