import type { WorkflowBindings } from '../workflow-template.js';

/**
 * Bindings of `sd15-txt2img.api.json`: ComfyUI's default SD1.5 text-to-image graph
 * (script_examples/basic_api_example.py, see shared fixtures README) with one LoraLoader,
 * node 10, between the checkpoint and its MODEL/CLIP consumers (KSampler 3, CLIPTextEncode
 * 6 and 7). A job without LoRAs bypasses it, so ComfyUI receives the original graph.
 *
 * Inputs:
 * - prompt, negative_prompt — node 6 / node 7 CLIPTextEncode `text`
 * - seed, steps, cfg, sampler_name, scheduler, denoise — node 3 KSampler
 * - width, height, batch_size — node 5 EmptyLatentImage
 * - checkpoint — node 4 CheckpointLoaderSimple `ckpt_name` (template: v1-5-pruned-emaonly.safetensors)
 * - lora — node 10 LoraLoader, repeated once per LoRA in a chain (apply-loras.ts)
 *
 * No vae or clip_skip: the checkpoint's own VAE and every CLIP layer are used; a model that
 * sets either needs a template with a VAELoader / CLIPSetLastLayer bound to them.
 *
 * Output: node 9 SaveImage (PNGs of type `output`), one per batch item.
 */
export const sd15Txt2ImgBindings = {
  prompt: { node: '6', input: 'text' },
  negative_prompt: { node: '7', input: 'text' },
  seed: { node: '3', input: 'seed' },
  steps: { node: '3', input: 'steps' },
  cfg: { node: '3', input: 'cfg' },
  sampler_name: { node: '3', input: 'sampler_name' },
  scheduler: { node: '3', input: 'scheduler' },
  denoise: { node: '3', input: 'denoise' },
  width: { node: '5', input: 'width' },
  height: { node: '5', input: 'height' },
  batch_size: { node: '5', input: 'batch_size' },
  checkpoint: { node: '4', input: 'ckpt_name' },
  lora: { node: '10', input: 'lora_name' },
} as const satisfies WorkflowBindings;
