import sharp from 'sharp';

/** Side of the greyscale thumbnail the DCT runs on, and of the low-frequency block kept. */
const SIZE = 32;
const LOW = 8;
/** Bits in a hash; the DC bit is always 0 (see {@link perceptualHash}). */
export const HASH_BITS = LOW * LOW;

/**
 * 1-D DCT-II basis, unnormalised like `scipy.fftpack.dct` (the `imagehash` reference): only
 * the first {@link LOW} frequencies, since the rest are thrown away anyway.
 */
const BASIS: Float64Array[] = Array.from({ length: LOW }, (_, u) =>
  Float64Array.from({ length: SIZE }, (_, x) => Math.cos(((2 * x + 1) * u * Math.PI) / (2 * SIZE))),
);

/**
 * 64-bit perceptual hash (pHash) of an encoded image, as 16 lowercase hex digits.
 *
 * The image is flattened, made greyscale and resized to 32×32 (ignoring aspect ratio); of its
 * 2-D DCT the top-left 8×8 block (lowest frequencies) is kept, and each coefficient becomes a
 * bit: 1 when above the median of the 63 AC coefficients. The DC coefficient (mean
 * brightness) is left out of the median and its bit (the most significant) is always 0, so
 * a uniform brightness change cannot flip bits. Row-major: bit 63 − (8u + v) is coefficient (u, v).
 *
 * @throws Error (from sharp) when the bytes do not decode.
 * @example await perceptualHash(png) // 'c3d1e0f0b0a09080'
 */
export async function perceptualHash(image: Buffer): Promise<string> {
  const { data, info } = await sharp(image, { failOn: 'error' })
    .flatten({ background: { r: 0, g: 0, b: 0 } })
    .greyscale()
    .resize(SIZE, SIZE, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== SIZE || info.height !== SIZE || info.channels !== 1) {
    throw new Error(`Expected a ${SIZE}x${SIZE} grey thumbnail but libvips produced ${info.width}x${info.height}x${info.channels}`);
  }
  const coefficients = lowFrequencyDct(data);
  const ac = Array.from(coefficients.subarray(1)).sort((a, b) => a - b);
  const median = ac[(ac.length - 1) / 2]!; // 63 values: the middle one
  let hash = 0n;
  for (let i = 1; i < HASH_BITS; i += 1) if (coefficients[i]! > median) hash |= 1n << BigInt(HASH_BITS - 1 - i);
  return hash.toString(16).padStart(HASH_BITS / 4, '0');
}

/** The 8×8 lowest-frequency coefficients of the separable 2-D DCT-II of a 32×32 block, row-major. */
function lowFrequencyDct(pixels: Uint8Array): Float64Array {
  // Rows first (32 rows × 8 frequencies), then columns: 8× less work than a full 32×32 DCT.
  const rows = new Float64Array(SIZE * LOW);
  for (let y = 0; y < SIZE; y += 1) {
    for (let v = 0; v < LOW; v += 1) {
      let s = 0;
      for (let x = 0; x < SIZE; x += 1) s += pixels[y * SIZE + x]! * BASIS[v]![x]!;
      rows[y * LOW + v] = s;
    }
  }
  const out = new Float64Array(LOW * LOW);
  for (let u = 0; u < LOW; u += 1) {
    for (let v = 0; v < LOW; v += 1) {
      let s = 0;
      for (let y = 0; y < SIZE; y += 1) s += rows[y * LOW + v]! * BASIS[u]![y]!;
      out[u * LOW + v] = s;
    }
  }
  return out;
}

function parseHash(hash: string): bigint {
  if (!/^[0-9a-f]{16}$/i.test(hash)) throw new Error(`Expected a 16-digit hex perceptual hash but received '${hash}'`);
  return BigInt(`0x${hash}`);
}

/**
 * Number of differing bits between two hashes from {@link perceptualHash}: 0 for the same
 * picture, a few for light edits (blur, brightness, re-encoding), about 32 for unrelated images.
 *
 * @example hammingDistance('c3d1e0f0b0a09080', 'c3d1e0f0b0a09081') // 1
 */
export function hammingDistance(a: string, b: string): number {
  let x = parseHash(a) ^ parseHash(b);
  let count = 0;
  while (x > 0n) {
    x &= x - 1n; // clears the lowest set bit
    count += 1;
  }
  return count;
}

/**
 * Diversity of a batch: the mean pairwise Hamming distance divided by 64. 0 means every image
 * is the same picture; unrelated images give about 0.5. Fewer than two hashes give 0, as a
 * single image has nothing to differ from.
 *
 * @example batchDiversity([h1, h2, h3]) // 0.47
 */
export function batchDiversity(hashes: readonly string[]): number {
  if (hashes.length < 2) return 0;
  let total = 0;
  let pairs = 0;
  for (let i = 0; i < hashes.length; i += 1) {
    for (let j = i + 1; j < hashes.length; j += 1) {
      total += hammingDistance(hashes[i]!, hashes[j]!);
      pairs += 1;
    }
  }
  return total / pairs / HASH_BITS;
}
