import { describe, it, expect } from 'vitest';
import sharp from 'sharp';
import { readPngTextChunks, withPngTextChunk } from '../../../src/media/image/png-text-chunk.js';

const samplePng = () =>
  sharp({ create: { width: 32, height: 16, channels: 3, background: { r: 200, g: 80, b: 20 } } })
    .png()
    .toBuffer();

const chunkTypes = (png: Buffer): string[] => {
  const types: string[] = [];
  for (let offset = 8; offset < png.length; offset += 12 + png.readUInt32BE(offset)) types.push(png.toString('latin1', offset + 4, offset + 8));
  return types;
};

describe('withPngTextChunk', () => {
  it('inserts a tEXt chunk right after IHDR that our reader and libvips both read back', async () => {
    const png = await samplePng();
    const text = 'a lighthouse at dusk\nSteps: 30, Sampler: Euler';
    const tagged = withPngTextChunk(png, 'parameters', text);
    expect(chunkTypes(tagged).slice(0, 2)).toEqual(['IHDR', 'tEXt']);
    expect(tagged.length).toBe(png.length + 12 + 'parameters'.length + 1 + Buffer.byteLength(text, 'latin1'));
    expect(readPngTextChunks(tagged)).toEqual({ parameters: text });
    const meta = await sharp(tagged).metadata();
    expect(meta.comments).toEqual([{ keyword: 'parameters', text }]);
  });

  it('stores accented (non-ASCII) text in iTXt so sharp reads it back intact', async () => {
    const text = 'a café at dusk, 25°';
    const tagged = withPngTextChunk(await samplePng(), 'parameters', text);
    expect(chunkTypes(tagged)[1]).toBe('iTXt');
    expect(readPngTextChunks(tagged)).toEqual({ parameters: text });
    const meta = await sharp(tagged).metadata();
    expect(meta.comments).toEqual([{ keyword: 'parameters', text }]);
  });

  it('keeps the image decodable and its pixels unchanged', async () => {
    const png = await samplePng();
    const tagged = withPngTextChunk(png, 'parameters', 'hello');
    const [before, after] = await Promise.all([sharp(png).raw().toBuffer(), sharp(tagged).raw().toBuffer()]);
    expect(after.equals(before)).toBe(true);
    expect(png.equals(await samplePng())).toBe(true);
  });

  it('writes non-Latin-1 text as an uncompressed UTF-8 iTXt chunk', async () => {
    const text = '富士山の夕焼け 🌅\nNegative prompt: ぼやけ';
    const tagged = withPngTextChunk(await samplePng(), 'parameters', text);
    expect(chunkTypes(tagged)[1]).toBe('iTXt');
    expect(tagged.includes(Buffer.from(text, 'utf8'))).toBe(true);
    expect(readPngTextChunks(tagged)).toEqual({ parameters: text });
    expect((await sharp(tagged).metadata()).comments).toEqual([{ keyword: 'parameters', text }]);
  });

  it('rejects data that is not a PNG, bad keywords and NUL in text', async () => {
    const png = await samplePng();
    const jpeg = await sharp(png).jpeg().toBuffer();
    expect(() => withPngTextChunk(jpeg, 'parameters', 'x')).toThrow(/PNG signature/);
    expect(() => withPngTextChunk(Buffer.alloc(0), 'parameters', 'x')).toThrow(/PNG signature/);
    for (const keyword of ['', 'k'.repeat(80), ' lead', 'two  spaces', 'tab\there', 'ключ']) {
      expect(() => withPngTextChunk(png, keyword, 'x')).toThrow(/keyword/);
    }
    expect(() => withPngTextChunk(png, 'k'.repeat(79), 'x')).not.toThrow();
    expect(() => withPngTextChunk(png, 'parameters', 'a\0b')).toThrow(/NUL/);
  });
});

describe('readPngTextChunks', () => {
  it('reads a text chunk that libvips wrote itself, among other chunks', async () => {
    const rewritten = await sharp(withPngTextChunk(await samplePng(), 'parameters', 'hello, world')).keepMetadata().png().toBuffer();
    expect(chunkTypes(rewritten)).toContain('pHYs');
    expect(readPngTextChunks(rewritten)).toEqual({ parameters: 'hello, world' });
    expect(readPngTextChunks(await samplePng())).toEqual({});
  });

  it('returns the first chunk when a keyword repeats', async () => {
    const tagged = withPngTextChunk(withPngTextChunk(await samplePng(), 'Comment', 'later'), 'Comment', 'first');
    expect(readPngTextChunks(tagged)).toEqual({ Comment: 'first' });
  });

  it('skips a chunk whose CRC is wrong and throws on a truncated PNG', async () => {
    const tagged = withPngTextChunk(await samplePng(), 'parameters', 'hello');
    const corrupt = Buffer.from(tagged);
    const inText = 8 + 25 + 8 + 'parameters'.length + 2; // signature, IHDR, length+type, keyword, NUL, 1 char
    corrupt.writeUInt8(corrupt.readUInt8(inText) ^ 0xff, inText);
    expect(readPngTextChunks(corrupt)).toEqual({});
    expect(() => readPngTextChunks(tagged.subarray(0, tagged.length - 20))).toThrow(/PNG/);
  });

  it('keeps "__proto__" as an ordinary keyword', async () => {
    const texts = readPngTextChunks(withPngTextChunk(await samplePng(), '__proto__', 'x'));
    expect(Object.keys(texts)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(texts)).toBe(Object.prototype);
  });
});
