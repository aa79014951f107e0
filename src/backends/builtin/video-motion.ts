import { deriveSeed, mulberry32 } from './prng.js';

/** Where the virtual camera looks: a zoom ≥ 1 and a pan within the margin the zoom frees. */
export interface CameraView {
  readonly zoom: number;
  /** −1…1: the window's centre as a fraction of the room it has to move in (0 = centred). */
  readonly panX: number;
  readonly panY: number;
}

const SALT_CAMERA = 5;
/** Gentle: at most ~15% zoom, like a slow push-in. */
const MIN_ZOOM = 0.06;
const ZOOM_RANGE = 0.09;

/**
 * A seeded camera path over t = 0…1, starting at the full frame. With `returnHome` (the video
 * must end exactly on an end image) the camera pushes in and comes back, sin(πt); otherwise it
 * pushes in and drifts in one direction at a steady pace, so no stretch of the video stands still.
 */
export function cameraPath(seed: number, returnHome: boolean): (t: number) => CameraView {
  const rng = mulberry32(deriveSeed(seed, SALT_CAMERA));
  const zoom = MIN_ZOOM + ZOOM_RANGE * rng();
  const angle = 2 * Math.PI * rng();
  const reach = 0.5 + 0.5 * rng();
  return (t) => {
    const amount = returnHome ? Math.sin(Math.PI * t) : t;
    return { zoom: 1 + zoom * amount, panX: Math.cos(angle) * reach * amount, panY: Math.sin(angle) * reach * amount };
  };
}

/** Per-axis bilinear taps for one view: source byte offsets and the fraction toward the next. */
function axisTaps(size: number, zoom: number, pan: number, stride: number) {
  const window = size / zoom;
  const start = ((size - window) / 2) * (1 + pan);
  const lo = new Int32Array(size);
  const hi = new Int32Array(size);
  const frac = new Float32Array(size);
  for (let i = 0; i < size; i += 1) {
    const s = Math.min(size - 1, Math.max(0, start + (i + 0.5) / zoom - 0.5));
    const i0 = Math.floor(s);
    lo[i] = i0 * stride;
    hi[i] = Math.min(size - 1, i0 + 1) * stride;
    frac[i] = s - i0;
  }
  return { lo, hi, frac };
}

/**
 * One video frame (raw RGB): `from` and `to` (same size, raw RGB) seen through `view`, with
 * `to` mixed in by `weight` (0…1). A JavaScript loop over the frame, bilinear and separable,
 * costs ~10 ms at 832×480; the identity view takes the exact source pixels, so the first frame
 * of an image-to-video equals its center-cropped start image.
 */
export function composeFrame(from: Buffer, to: Buffer, weight: number, view: CameraView, width: number, height: number): Buffer {
  const out = Buffer.allocUnsafe(width * height * 3);
  const xs = axisTaps(width, view.zoom, view.panX, 3);
  const ys = axisTaps(height, view.zoom, view.panY, width * 3);
  const w = Math.min(1, Math.max(0, weight));
  let o = 0;
  for (let y = 0; y < height; y += 1) {
    const r0 = ys.lo[y]!;
    const r1 = ys.hi[y]!;
    const fy = ys.frac[y]!;
    for (let x = 0; x < width; x += 1) {
      const c0 = xs.lo[x]!;
      const c1 = xs.hi[x]!;
      const fx = xs.frac[x]!;
      for (let c = 0; c < 3; c += 1) {
        const a = bilinear(from, r0, r1, c0 + c, c1 + c, fx, fy);
        const b = w === 0 ? a : bilinear(to, r0, r1, c0 + c, c1 + c, fx, fy);
        out[o] = Math.round(a + (b - a) * w);
        o += 1;
      }
    }
  }
  return out;
}

function bilinear(src: Buffer, r0: number, r1: number, c0: number, c1: number, fx: number, fy: number): number {
  const top = src[r0 + c0]! + (src[r0 + c1]! - src[r0 + c0]!) * fx;
  const bottom = src[r1 + c0]! + (src[r1 + c1]! - src[r1 + c0]!) * fx;
  return top + (bottom - top) * fy;
}
