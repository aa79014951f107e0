import type { JobSpec } from '../../jobs/job-spec.js';
import { appliedLoras, promptWithLoraTags } from '../../jobs/loras.js';

/** What `parseA1111Parameters` recovers from an A1111 "PNG info" text. */
export interface A1111Parameters {
  readonly prompt: string;
  readonly negativePrompt?: string;
  /** Every `Key: value` of the settings line, values unquoted, e.g. `{ Steps: '30' }`. */
  readonly settings: Record<string, string>;
}

const NEGATIVE_PREFIX = 'Negative prompt:';
/** A1111's `re_param_code`: a key, then a JSON-quoted value or anything up to the next comma. */
const SETTING = /\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)/g;

/** True when the spec carries a negative prompt worth recording (not empty or blank). */
export function hasNegativePrompt(spec: Pick<JobSpec, 'negativePrompt'>): boolean {
  return spec.negativePrompt !== undefined && spec.negativePrompt.trim().length > 0;
}

/** A1111's `quote()`: values that would break the `Key: value, …` line become JSON strings. */
function quote(value: string | number): string {
  const text = String(value);
  return /[,\n:]/.test(text) ? JSON.stringify(text) : text;
}

/**
 * Formats the text AUTOMATIC1111 writes into a PNG's `parameters` chunk, so tools that read
 * "PNG info" (A1111, ComfyUI, Civitai, image viewers) show how the image was made. LoRAs
 * are written as A1111 records them — `<lora:name:weight>` tags in the prompt, which A1111
 * keeps there when it writes its infotext — and the model's VAE and clip skip as A1111's
 * `VAE` and `Clip skip` (the latter only above 1, as A1111 does).
 *
 * @example formatA1111Parameters(spec, 123, { Version: 'atelier-preview-renderer' })
 * // 'a cat\nSteps: 30, Sampler: Euler, CFG scale: 7.5, Seed: 123, Size: 1024x1024, Model: preview, Version: atelier-preview-renderer'
 */
export function formatA1111Parameters(spec: JobSpec, seed: number, extras: Record<string, string | number> = {}): string {
  const settings: Record<string, string | number> = {
    Steps: spec.steps,
    Sampler: spec.sampler,
    'CFG scale': spec.cfgScale,
    Seed: seed,
    Size: `${spec.width}x${spec.height}`,
    Model: spec.model,
    ...(spec.backendSettings?.vae !== undefined ? { VAE: spec.backendSettings.vae } : {}),
    ...((spec.backendSettings?.clipSkip ?? 1) > 1 ? { 'Clip skip': spec.backendSettings!.clipSkip! } : {}),
    ...extras,
  };
  const settingsLine = Object.entries(settings)
    .map(([key, value]) => `${key}: ${quote(value)}`)
    .join(', ');
  const negative = hasNegativePrompt(spec) ? `\n${NEGATIVE_PREFIX} ${spec.negativePrompt}` : '';
  return `${promptWithLoraTags(spec.prompt, appliedLoras(spec))}${negative}\n${settingsLine}`.trim();
}

/** JSON-unquotes a quoted value; a malformed one is kept verbatim rather than lost. */
function unquote(value: string): string {
  if (!(value.length >= 2 && value.startsWith('"') && value.endsWith('"'))) return value;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'string' ? parsed : value;
  } catch {
    return value;
  }
}

/**
 * Parses A1111 "PNG info" text the way A1111's `parse_generation_parameters` does: the last
 * line is settings when it holds at least three `Key: value` pairs, a line starting with
 * `Negative prompt:` begins the negative prompt, and everything before is the prompt.
 */
export function parseA1111Parameters(text: string): A1111Parameters {
  const lines = text.trim().split('\n');
  let settingsLine = lines.pop() ?? '';
  if ([...settingsLine.matchAll(SETTING)].length < 3) {
    lines.push(settingsLine);
    settingsLine = '';
  }
  let prompt = '';
  let negativePrompt: string | undefined;
  for (const rawLine of lines) {
    let line = rawLine.trim();
    if (line.startsWith(NEGATIVE_PREFIX)) {
      negativePrompt ??= '';
      line = line.slice(NEGATIVE_PREFIX.length).trim();
    }
    if (negativePrompt === undefined) prompt += (prompt === '' ? '' : '\n') + line;
    else negativePrompt += (negativePrompt === '' ? '' : '\n') + line;
  }
  const settings: Record<string, string> = {};
  for (const [, key, value] of settingsLine.matchAll(SETTING)) settings[key!] = unquote(value!.trim());
  return negativePrompt === undefined ? { prompt, settings } : { prompt, negativePrompt, settings };
}
