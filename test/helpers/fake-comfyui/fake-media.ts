import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { encodeMp4 } from '../../../src/media/video/encode-mp4.js';

/**
 * The colour the fake paints output `index` of a prompt with seed `seed`, so a test can tell
 * from the pixels which seed was bound.
 */
export function fakeColour(seed: number, index = 0): [number, number, number] {
  const digest = createHash('sha256').update(`${seed}:${index}`).digest();
  return [digest[0]!, digest[1]!, digest[2]!];
}

/** Inserts a tEXt chunk after IHDR, where PIL puts SaveImage's `prompt` and `workflow`. */
export function withTextChunk(png: Buffer, key: string, text: string): Buffer {
  const body = Buffer.concat([Buffer.from('tEXt', 'latin1'), Buffer.from(key, 'latin1'), Buffer.from([0]), Buffer.from(text, 'latin1')]);
  const chunk = Buffer.alloc(body.length + 8);
  chunk.writeUInt32BE(body.length - 4, 0);
  body.copy(chunk, 4);
  chunk.writeUInt32BE(crc32(body), body.length + 4);
  const afterIhdr = 8 + 25; // signature, then IHDR (length, type, 13 bytes, CRC); readers skip text after IDAT
  return Buffer.concat([png.subarray(0, afterIhdr), chunk, png.subarray(afterIhdr)]);
}

/** A solid PNG, like SaveImage would write, with the API graph in its `prompt` tEXt chunk. */
export async function solidPng(width: number, height: number, [r, g, b]: [number, number, number], prompt?: unknown): Promise<Buffer> {
  const png = await sharp({ create: { width, height, channels: 3, background: { r, g, b } } }).png().toBuffer();
  return prompt === undefined ? png : withTextChunk(png, 'prompt', JSON.stringify(prompt));
}

/** The JPEG a binary preview frame carries: `side` square, like a latent preview (64) or SaveImageWebsocket's full-size frame. */
export async function previewJpeg(seed: number, side = 64): Promise<Buffer> {
  const [r, g, b] = fakeColour(seed);
  return sharp({ create: { width: side, height: side, channels: 3, background: { r, g, b } } }).jpeg().toBuffer();
}

/** A solid H.264 MP4, like SaveVideo would write. */
export async function solidMp4(width: number, height: number, frames: number, fps: number, colour: [number, number, number]): Promise<Buffer> {
  const file = join(tmpdir(), `fake-comfyui-${process.pid}-${Date.now()}-${Math.random().toString(16).slice(2)}.mp4`);
  const frame = Buffer.alloc(width * height * 3);
  for (let i = 0; i < frame.length; i += 3) frame.set(colour, i);
  async function* all() {
    for (let i = 0; i < frames; i += 1) yield frame;
  }
  await encodeMp4(all(), { width, height, fps, file });
  try {
    return await readFile(file);
  } finally {
    await rm(file, { force: true });
  }
}
