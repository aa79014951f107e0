import type { Mode } from '../../jobs/job-spec.js';

/** What the OpenAI Images API accepts per model family (PROTOCOLS §3). */
export interface OpenAIModelDefaults {
  /** `WxH` sizes the upstream accepts; undefined = any size (gpt-image-2, most compatible servers). */
  readonly sizes: readonly string[] | undefined;
  /** Most images one request may ask for (`n`). */
  readonly imagesPerRequest: number;
  /** GPT image models reject `response_format` ("Unknown parameter") and always return base64. */
  readonly responseFormat: 'b64_json' | 'omit';
  readonly modes: readonly Mode[];
}

const GPT_IMAGE_1_SIZES = ['1024x1024', '1536x1024', '1024x1536'];

/**
 * Defaults by upstream model name; every one can be overridden in the backend options. An
 * unknown name is taken for an OpenAI-compatible server: any size, `b64_json` asked for.
 *
 * @example openAIModelDefaults('dall-e-3') // { sizes: ['1024x1024', '1792x1024', '1024x1792'], imagesPerRequest: 1, … }
 */
export function openAIModelDefaults(model: string): OpenAIModelDefaults {
  if (model === 'dall-e-2') return { sizes: ['256x256', '512x512', '1024x1024'], imagesPerRequest: 10, responseFormat: 'b64_json', modes: ['t2i', 'i2i'] };
  // dall-e-3 has no edits endpoint and takes n = 1 only.
  if (model === 'dall-e-3') return { sizes: ['1024x1024', '1792x1024', '1024x1792'], imagesPerRequest: 1, responseFormat: 'b64_json', modes: ['t2i'] };
  if (/^gpt-image-1(\.|-|$)/.test(model)) return { sizes: GPT_IMAGE_1_SIZES, imagesPerRequest: 10, responseFormat: 'omit', modes: ['t2i', 'i2i'] };
  if (model.startsWith('gpt-image')) return { sizes: undefined, imagesPerRequest: 10, responseFormat: 'omit', modes: ['t2i', 'i2i'] };
  return { sizes: undefined, imagesPerRequest: 10, responseFormat: 'b64_json', modes: ['t2i', 'i2i'] };
}

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** `1024x768` → {width: 1024, height: 768}. @throws Error for anything else. */
export function parseSize(text: string): Size {
  const match = /^(\d+)x(\d+)$/.exec(text);
  if (!match) throw new Error(`Expected a size like 1024x1024 but received '${text}'`);
  return { width: Number(match[1]), height: Number(match[2]) };
}

/**
 * The size to ask the upstream for: the job's own when allowed (or when any size is), else
 * the allowed size closest in aspect ratio, then in area. The adapter center-crops the result
 * to the job's size, so a 16:9 job on gpt-image-1 renders 1536x1024 and is cropped to 16:9.
 *
 * @example chooseUpstreamSize({ width: 1024, height: 576 }, ['1024x1024', '1536x1024']) // {width: 1536, height: 1024}
 */
export function chooseUpstreamSize(wanted: Size, sizes: readonly string[] | undefined): Size {
  if (sizes === undefined || sizes.length === 0 || sizes.includes(`${wanted.width}x${wanted.height}`)) return wanted;
  const ratio = Math.log(wanted.width / wanted.height);
  const area = wanted.width * wanted.height;
  const score = (s: Size) => [Math.abs(Math.log(s.width / s.height) - ratio), Math.abs(Math.log((s.width * s.height) / area))] as const;
  return sizes.map(parseSize).reduce((best, candidate) => {
    const [a1, a2] = score(candidate);
    const [b1, b2] = score(best);
    return a1 < b1 - 1e-9 || (Math.abs(a1 - b1) <= 1e-9 && a2 < b2) ? candidate : best;
  });
}
