import type { Size } from './openai-model-defaults.js';

/** One request's parameters, already resolved by the backend. */
export interface ImagesRequestParams {
  readonly model: string;
  readonly prompt: string;
  readonly n: number;
  readonly size: Size;
  readonly responseFormat: 'b64_json' | 'omit';
}

/** A body ready to send: bytes and their content type. */
export interface EncodedBody {
  readonly contentType: string;
  readonly body: Buffer;
}

const sizeText = (size: Size) => `${size.width}x${size.height}`;

/**
 * POST /images/generations as JSON (`images.generate`). Negative prompt, steps, CFG and
 * sampler have no place in this API and are not sent.
 *
 * @example generationsBody({ model: 'gpt-image-1', prompt: 'a fox', n: 2, size: { width: 1024, height: 1024 }, responseFormat: 'omit' })
 */
export function generationsBody(params: ImagesRequestParams): EncodedBody {
  const json = {
    model: params.model,
    prompt: params.prompt,
    n: params.n,
    size: sizeText(params.size),
    ...(params.responseFormat === 'b64_json' ? { response_format: 'b64_json' } : {}),
  };
  return { contentType: 'application/json', body: Buffer.from(JSON.stringify(json)) };
}

/**
 * POST /images/edits as multipart/form-data (`images.edit`): the reference PNG as the `image`
 * file plus the text fields. Serialised through the platform's own FormData encoder, so the
 * boundary and escaping are the ones fetch would send.
 *
 * @example await editsBody(params, referencePng) // { contentType: 'multipart/form-data; boundary=…', body }
 */
export async function editsBody(params: ImagesRequestParams, image: Buffer): Promise<EncodedBody> {
  const form = new FormData();
  form.append('image', new Blob([image], { type: 'image/png' }), 'reference.png');
  form.append('prompt', params.prompt);
  form.append('model', params.model);
  form.append('n', String(params.n));
  form.append('size', sizeText(params.size));
  if (params.responseFormat === 'b64_json') form.append('response_format', 'b64_json');
  const encoded = new Request('http://multipart.invalid/', { method: 'POST', body: form });
  return { contentType: encoded.headers.get('content-type') ?? 'multipart/form-data', body: Buffer.from(await encoded.arrayBuffer()) };
}
