import { describe, expect, it } from 'vitest';
import { resolveConditioning, specInputImages } from '../../src/jobs/conditioning.js';
import type { InputImage } from '../../src/jobs/job-spec.js';

const image = (key: string): InputImage => ({ key, format: 'png', width: 8, height: 8, sha256: key, source: { uploadId: key } });

describe('guided-generation rules', () => {
  it('lists every held input of a spec, guidance and control images included (what retention sweeps)', () => {
    const keys = specInputImages({
      reference: image('r'),
      guidanceImages: [image('g0'), image('g1')],
      controlnet: [{ image: image('c0') }],
    }).map((i) => i.key);
    expect(keys).toEqual(['r', 'g0', 'g1', 'c0']);
  });

  it('defaults weight 1 over the whole schedule and refuses what the capabilities lack', () => {
    const caps = { controlnet: ['canny'] as const, guidanceImages: 1 };
    const resolved = resolveConditioning('t2i', [{ type: 'canny' }], { guidance: [image('g')], controlnet: [image('c')] }, caps, 'm');
    expect(resolved.controlnet).toEqual([{ type: 'canny', image: image('c'), weight: 1, start: 0, end: 1 }]);
    expect(resolved.guidanceImages).toEqual([image('g')]);
    expect(() => resolveConditioning('t2i', [{ type: 'depth' }], { guidance: [], controlnet: [image('c')] }, caps, 'm')).toThrow(expect.objectContaining({ code: 'conditioning_unsupported', field: 'controlnet[0].type' }));
    expect(() => resolveConditioning('t2i', undefined, { guidance: [image('a'), image('b')], controlnet: [] }, caps, 'm')).toThrow(expect.objectContaining({ code: 'conditioning_unsupported', field: 'guidance_images' }));
    expect(() => resolveConditioning('t2v', [{ type: 'canny' }], { guidance: [], controlnet: [image('c')] }, caps, 'm')).toThrow(expect.objectContaining({ code: 'invalid_parameter' }));
    expect(resolveConditioning('i2i', undefined, undefined, {}, 'm')).toEqual({});
  });
});
