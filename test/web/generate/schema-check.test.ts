import { describe, expect, it } from 'vitest';
import { ImageToImageBody, TextToImageBody, TextToVideoBody } from '../../../src/api/schemas/generate';
import { checkSchema, formatProblem, requestSchema, type JsonSchema } from '../../../web/src/features/generate/schema-check';

// The TypeBox schemas the API validates with are plain JSON Schema objects: check against them.
const t2i = TextToImageBody as unknown as JsonSchema;
const problems = (schema: JsonSchema, value: unknown) => checkSchema(schema, value).map(formatProblem);

describe('schema check (the subset the API uses)', () => {
  it('accepts valid bodies', () => {
    expect(problems(t2i, { prompt: 'a fox', steps: 30, cfg_scale: 7.5, seed: -1, aspect_ratio: '16:9', hires_fix: true, cache_mode: 'off' })).toEqual([]);
    expect(problems(ImageToImageBody as unknown as JsonSchema, { reference_image: { asset_id: 'a' }, denoise_strength: 0.5 })).toEqual([]);
    expect(problems(TextToVideoBody as unknown as JsonSchema, { prompt: 'w', duration_seconds: 2, fps: 8 })).toEqual([]);
  });

  it('reports ranges, types, required, unknown fields and enums by path', () => {
    expect(problems(t2i, { prompt: 'x', steps: 500 })).toEqual(['steps: expected at most 150 but received 500']);
    expect(problems(t2i, { prompt: 'x', steps: 2.5 })).toEqual(['steps: expected integer but received 2.5']);
    expect(problems(t2i, { prompt: 'x', steps: null })).toEqual(['steps: expected integer but received null']);
    expect(problems(t2i, { steps: 3 })).toEqual(['prompt: is required']);
    expect(problems(t2i, { prompt: 'x', bogus: 1 })).toEqual(['bogus: is not a field of this request']);
    expect(problems(t2i, { prompt: 'x', aspect_ratio: '5:4' })[0]).toMatch(/^aspect_ratio: expected one of "1:1", "16:9".* but received "5:4"$/);
    expect(problems(t2i, { prompt: 'x'.repeat(10_001) })).toEqual(['prompt: expected at most 10000 characters but received 10001']);
    expect(problems(t2i, { prompt: 'x', seed: -2 })).toEqual(['seed: expected at least -1 but received -2']);
  });

  it('image refs: one of three shapes', () => {
    const i2i = ImageToImageBody as unknown as JsonSchema;
    expect(problems(i2i, { reference_image: { file: 'x' } })[0]).toBe('reference_image: expected one of {upload_id} | {asset_id} | {url} but received an object');
    expect(problems(i2i, { reference_image: { upload_id: '' } })).toHaveLength(1);
  });

  it('exclusive bounds, arrays, $ref', () => {
    expect(problems(TextToVideoBody as unknown as JsonSchema, { duration_seconds: 0 })).toEqual(['duration_seconds: expected more than 0 but received 0']);
    const doc = {
      paths: { '/x': { post: { requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Body' } } } } } } },
      components: { schemas: { Body: { type: 'object', properties: { list: { type: 'array', maxItems: 1, items: { type: 'string', const: 'a' } } } } } },
    } as const;
    const found = requestSchema(doc as never, '/x')!;
    expect(checkSchema(found.schema, { list: ['a', 'b'] }, found.resolve).map(formatProblem)).toEqual(['list: expected at most 1 items but received 2', 'list.1: expected "a"']);
    expect(requestSchema(doc as never, '/missing')).toBeUndefined();
  });
});
