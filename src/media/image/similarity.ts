/**
 * Image similarity on raw 8-bit pixels: SSIM (Wang et al. 2004) and PSNR. Used to verify that
 * image-to-image keeps what it should and, later, to evaluate backends against references.
 * Inputs are raw buffers of `width * height` (grey) or `width * height * 3` (interleaved RGB)
 * bytes; RGB is compared on its BT.601 luma, as the reference SSIM implementation does.
 */

const MAX = 255;
const C1 = (0.01 * MAX) ** 2;
const C2 = (0.03 * MAX) ** 2;
const GAUSSIAN_SIZE = 11;
const GAUSSIAN_SIGMA = 1.5;

function channelsOf(a: Uint8Array, b: Uint8Array, width: number, height: number): 1 | 3 {
  const pixels = width * height;
  if (!(Number.isInteger(width) && Number.isInteger(height) && pixels > 0)) throw new Error(`Expected positive integer dimensions but received ${width}x${height}`);
  if (a.length !== b.length) throw new Error(`Expected images of equal size but received ${a.length} and ${b.length} bytes`);
  if (a.length === pixels) return 1;
  if (a.length === pixels * 3) return 3;
  throw new Error(`Expected ${pixels} (grey) or ${pixels * 3} (RGB) bytes for ${width}x${height} but received ${a.length}`);
}

/** Luma as floats; grey input is copied as is. */
function luma(image: Uint8Array, channels: 1 | 3): Float64Array {
  if (channels === 1) return Float64Array.from(image);
  const out = new Float64Array(image.length / 3);
  for (let i = 0, j = 0; i < out.length; i += 1, j += 3) out[i] = 0.299 * image[j]! + 0.587 * image[j + 1]! + 0.114 * image[j + 2]!;
  return out;
}

/** A normalised 1-D Gaussian of `size` taps. */
function gaussianKernel(size: number, sigma: number): Float64Array {
  const half = (size - 1) / 2;
  const k = Float64Array.from({ length: size }, (_, i) => Math.exp(-((i - half) ** 2) / (2 * sigma * sigma)));
  const sum = k.reduce((s, v) => s + v, 0);
  return k.map((v) => v / sum);
}

/** Separable 'valid' filtering (no padding), as in the reference MATLAB `filter2(w, x, 'valid')`. */
function filterValid(src: Float64Array, width: number, height: number, k: Float64Array): Float64Array {
  const n = k.length;
  const ow = width - n + 1;
  const oh = height - n + 1;
  const rows = new Float64Array(ow * height);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < ow; x += 1) {
      let s = 0;
      for (let i = 0; i < n; i += 1) s += k[i]! * src[y * width + x + i]!;
      rows[y * ow + x] = s;
    }
  }
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y += 1) {
    for (let x = 0; x < ow; x += 1) {
      let s = 0;
      for (let i = 0; i < n; i += 1) s += k[i]! * rows[(y + i) * ow + x]!;
      out[y * ow + x] = s;
    }
  }
  return out;
}

/**
 * Mean structural similarity in −1…1 (1 = identical) with the standard 11-tap Gaussian window
 * (σ = 1.5), K1 = 0.01 and K2 = 0.03. Images smaller than the window use a window as large
 * as the smaller side.
 *
 * @example ssim(rgbA, rgbB, 512, 512) // 0.97
 */
export function ssim(a: Uint8Array, b: Uint8Array, width: number, height: number): number {
  const channels = channelsOf(a, b, width, height);
  const x = luma(a, channels);
  const y = luma(b, channels);
  const size = Math.min(GAUSSIAN_SIZE, width, height);
  const k = gaussianKernel(size, size === GAUSSIAN_SIZE ? GAUSSIAN_SIGMA : Math.max(0.5, size / 7));
  const products = (f: (i: number) => number) => Float64Array.from({ length: x.length }, (_, i) => f(i));
  const muX = filterValid(x, width, height, k);
  const muY = filterValid(y, width, height, k);
  const xx = filterValid(products((i) => x[i]! * x[i]!), width, height, k);
  const yy = filterValid(products((i) => y[i]! * y[i]!), width, height, k);
  const xy = filterValid(products((i) => x[i]! * y[i]!), width, height, k);
  let total = 0;
  for (let i = 0; i < muX.length; i += 1) {
    const mx = muX[i]!;
    const my = muY[i]!;
    const vx = xx[i]! - mx * mx;
    const vy = yy[i]! - my * my;
    const cov = xy[i]! - mx * my;
    total += ((2 * mx * my + C1) * (2 * cov + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2));
  }
  return total / muX.length;
}

/**
 * Peak signal-to-noise ratio in dB over every channel of 8-bit data; `Infinity` for identical
 * images. About 30 dB is a visible but mild difference, above 40 dB near-invisible.
 *
 * @example psnr(rgbA, rgbB, 512, 512) // 34.2
 */
export function psnr(a: Uint8Array, b: Uint8Array, width: number, height: number): number {
  channelsOf(a, b, width, height);
  let squared = 0;
  for (let i = 0; i < a.length; i += 1) squared += (a[i]! - b[i]!) ** 2;
  if (squared === 0) return Infinity;
  return 10 * Math.log10((MAX * MAX) / (squared / a.length));
}
