import { UnrecoverableError } from '../../errors/signals.js';
import type { JobSpec } from '../../jobs/job-spec.js';
import { hasBinding, type BindingValues } from './bind-workflow.js';
import type { WorkflowTemplate } from './workflow-template.js';

/**
 * The binding values of a job's model settings: its checkpoint (over the backend's configured
 * one), VAE (a VAELoader's `vae_name`) and clip skip (a CLIPSetLastLayer's
 * `stop_at_clip_layer`, which counts from the end: clip skip 2 is −2). A setting the template
 * has nowhere to put fails the job rather than render without it; clip skip 1 (no skip) needs
 * no binding.
 *
 * @throws UnrecoverableError `capability_unsupported` naming the missing binding.
 * @example bindWorkflow(template, { ...values, ...modelSettingValues(template, spec, options.checkpoint) })
 */
export function modelSettingValues(template: WorkflowTemplate, spec: Pick<JobSpec, 'backendSettings'>, configuredCheckpoint: string | undefined): Pick<BindingValues, 'checkpoint' | 'vae' | 'clip_skip'> {
  const { checkpoint, vae, clipSkip } = spec.backendSettings ?? {};
  const needs = (binding: 'checkpoint' | 'vae' | 'clip_skip', setting: string) => {
    if (!hasBinding(template, binding)) {
      throw new UnrecoverableError(`The model sets ${setting} but the ComfyUI workflow '${template.name}' has no '${binding}' binding`, 'capability_unsupported');
    }
  };
  if (checkpoint !== undefined) needs('checkpoint', 'a checkpoint');
  if (vae !== undefined) needs('vae', 'a VAE');
  if (clipSkip !== undefined && clipSkip > 1) needs('clip_skip', `clip skip ${clipSkip}`);
  return {
    checkpoint: checkpoint ?? configuredCheckpoint,
    vae,
    clip_skip: clipSkip !== undefined && hasBinding(template, 'clip_skip') ? -clipSkip : undefined,
  };
}
