import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { findNulCharacter } from '../../src/validation/find-nul-character.js';

describe('findNulCharacter', () => {
  it('names the first string or key holding a NUL by its dotted path', () => {
    expect(findNulCharacter({ prompt: 'fine', loras: [{ name: 'a\u0000' }] })).toEqual({ field: 'loras[0].name', value: 'a\u0000' });
    expect(findNulCharacter({ a: { 'b\u0000': 1 } })).toEqual({ field: 'a.b\u0000', value: 'b\u0000' });
    expect(findNulCharacter('x\u0000', 'body')).toEqual({ field: 'body', value: 'x\u0000' });
    expect(findNulCharacter(Object.assign(Object.create(null) as object, { q: '%\u0000' }))).toEqual({ field: 'q', value: '%\u0000' });
    expect(findNulCharacter({ prompt: 'a lighthouse', n: 2, nested: [[null, true]] })).toBeUndefined();
  });

  it('looks into JSON values only: a raw body stream (a graph with cycles) or bytes are left alone', () => {
    // A route that takes its body raw (a worker's staged upload) hands the request stream on:
    // walking it followed the socket's cycles until the process ran out of memory.
    const stream = new PassThrough();
    (stream as unknown as { self: unknown }).self = stream;
    expect(findNulCharacter(stream)).toBeUndefined();
    expect(findNulCharacter(Buffer.from('a\u0000b'))).toBeUndefined();
    expect(findNulCharacter({ body: stream })).toBeUndefined();
  });
});
