/**
 * Flat PNGs whose colour encodes a number (a seed, an image counter), so a test can tell
 * which output is which after any number of hops: used by the fake A1111 and OpenAI servers.
 */
import sharp from 'sharp';
import { withPngTextChunk } from '../../src/media/image/png-text-chunk.js';

/** The low 24 bits of `value` as RGB. */
export function colourFor(value: number): [number, number, number] {
  const v = value >>> 0;
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff];
}

/** A width×height PNG filled with {@link colourFor}(value), optionally with an A1111 `parameters` text. */
export async function colourPng(value: number, width: number, height: number, parameters?: string): Promise<Buffer> {
  const [r, g, b] = colourFor(value);
  const png = await sharp({ create: { width, height, channels: 3, background: { r, g, b } } }).png().toBuffer();
  return parameters === undefined ? png : withPngTextChunk(png, 'parameters', parameters);
}

/** The colour of a flat image (its mean, rounded) and its size. */
export async function readColourImage(bytes: Buffer): Promise<{ colour: [number, number, number]; width: number; height: number; format: string }> {
  const image = sharp(bytes);
  const [{ width, height, format }, { channels }] = await Promise.all([image.metadata(), image.stats()]);
  const colour = channels.slice(0, 3).map((c) => Math.round(c.mean)) as [number, number, number];
  return { colour, width: width ?? 0, height: height ?? 0, format: format ?? '' };
}

/** Reads a request body whole. */
export async function readBody(req: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}
