import type { WorkflowBindings } from '../workflow-template.js';

/**
 * Bindings of `sd15-img2img.api.json`: LoadImage → VAEEncode → KSampler → VAEDecode →
 * SaveImage, from SaladTechnologies/comfyui-api (see shared fixtures README), with one
 * LoraLoader, node 15, between the checkpoint and its MODEL/CLIP consumers (KSampler 3,
 * CLIPTextEncode 6 and 7). A job without LoRAs bypasses it, so ComfyUI receives the original graph.
 *
 * Inputs:
 * - image — node 10 LoadImage `image`: the name POST /upload/image returned for the reference
 * - prompt, negative_prompt — node 6 / node 7 CLIPTextEncode `text`
 * - seed, steps, cfg, sampler_name, scheduler, denoise — node 3 KSampler (denoise = denoise_strength)
 * - checkpoint — node 14 CheckpointLoaderSimple `ckpt_name` (template: dreamshaper_8.safetensors)
 * - lora — node 15 LoraLoader, repeated once per LoRA in a chain (apply-loras.ts)
 *
 * No width, height or batch_size: the output takes the reference's size (the adapter
 * center-crops the reference to the job's size before uploading), and a batch runs as one
 * prompt per image with seed + i.
 *
 * Output: node 9 SaveImage (PNG of type `output`).
 */
export const sd15Img2ImgBindings = {
  image: { node: '10', input: 'image' },
  prompt: { node: '6', input: 'text' },
  negative_prompt: { node: '7', input: 'text' },
  seed: { node: '3', input: 'seed' },
  steps: { node: '3', input: 'steps' },
  cfg: { node: '3', input: 'cfg' },
  sampler_name: { node: '3', input: 'sampler_name' },
  scheduler: { node: '3', input: 'scheduler' },
  denoise: { node: '3', input: 'denoise' },
  checkpoint: { node: '14', input: 'ckpt_name' },
  lora: { node: '15', input: 'lora_name' },
} as const satisfies WorkflowBindings;
