import { createHash } from 'node:crypto';

/** A source of uniform numbers in [0, 1). */
export type Rng = () => number;

/**
 * mulberry32: a tiny 32-bit PRNG. Output depends only on the seed, so every render of the
 * same spec draws the same numbers on every machine (Math.random could never give that).
 */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Derives an independent stream seed from one seed and a salt (a splitmix32-style finaliser),
 * so noise, jitter and ancestral noise never share numbers yet all follow the job seed.
 */
export function deriveSeed(seed: number, salt: number): number {
  let z = (seed ^ Math.imul(salt + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Standard normal samples via Box–Muller; `1 - rng()` keeps log() away from zero. */
export function gaussianSource(rng: Rng): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - rng()));
    const angle = 2 * Math.PI * rng();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
}

/** The first 32 bits of sha256(text): a stable per-word number that no seed can change. */
export function hash32(text: string): number {
  return createHash('sha256').update(text, 'utf8').digest().readUInt32BE(0);
}

/** Four independent unit values from sha256(text), for deriving several properties of one word. */
export function hashUnits(text: string): [number, number, number, number] {
  const digest = createHash('sha256').update(text, 'utf8').digest();
  const unit = (offset: number) => digest.readUInt32BE(offset) / 4294967296;
  return [unit(0), unit(4), unit(8), unit(12)];
}
