import type { Mode } from '../../jobs/job-spec.js';
import { loadWorkflowTemplate, type WorkflowTemplate } from './workflow-template.js';
import sd15Img2Img from './workflows/sd15-img2img.api.json' with { type: 'json' };
import { sd15Img2ImgBindings } from './workflows/sd15-img2img.bindings.js';
import sd15Txt2Img from './workflows/sd15-txt2img.api.json' with { type: 'json' };
import { sd15Txt2ImgBindings } from './workflows/sd15-txt2img.bindings.js';

/**
 * The built-in SD1.5 templates: ComfyUI's default text-to-image graph and an image-to-image
 * graph. Pass a checkpoint in the backend options to run them on another model.
 *
 * @example const workflows = defaultComfyWorkflows() // { t2i, i2i }
 */
export function defaultComfyWorkflows(): Partial<Record<Mode, WorkflowTemplate>> {
  return {
    t2i: loadWorkflowTemplate('sd15-txt2img', sd15Txt2Img, sd15Txt2ImgBindings, 't2i'),
    i2i: loadWorkflowTemplate('sd15-img2img', sd15Img2Img, sd15Img2ImgBindings, 'i2i'),
  };
}
