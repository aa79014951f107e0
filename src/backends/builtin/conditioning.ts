import sharp from 'sharp';
import { UnrecoverableError } from '../../errors/signals.js';
import type { ControlNetType } from '../../jobs/conditioning.js';
import type { JobSpec } from '../../jobs/job-spec.js';
import { centerCropTo } from '../../media/image/center-crop.js';
import type { GenerateInputs } from '../backend.js';
import { latentSize } from './prompt-target.js';
import type { Latent } from './target-field.js';

/**
 * How far guidance images pull the target's colour statistics toward theirs (0 none, 1 all
 * the way): strong enough to see, weak enough that the prompt still shapes the scene.
 */
export const GUIDANCE_STRENGTH = 0.6;
/** The share of the target a weight-1 ControlNet unit acting over the whole schedule replaces. */
export const CONTROL_GAIN = 0.6;
/** Guidance images are summarised from this small a copy: only colour statistics matter. */
const STATS_SIDE = 32;

interface ChannelStats {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

interface ControlMap {
  readonly type: ControlNetType;
  /** 0–1 per latent pixel: edge strength (line types) or luminance (depth). */
  readonly map: Float32Array;
  /** weight × CONTROL_GAIN × the share of the schedule the unit acts on, clamped to 0–1. */
  readonly amount: number;
}

/** A job's guidance and control images, prepared once for a whole batch. */
export interface PreparedConditioning {
  /** Conditions the prompt's target field (at latent size); returns a new latent. */
  apply(target: Latent): Latent;
}

/** Line-like controls take their structure from the control image's edges. */
const EDGE_TYPES: readonly ControlNetType[] = ['canny', 'scribble', 'lineart', 'pose'];

/**
 * The preview renderer's cheap, deterministic stand-ins for IP-Adapter and ControlNet:
 * guidance images move the target's per-channel mean and spread toward theirs (palette
 * transfer), and each ControlNet unit blends the control image's structure into the target
 * — its edges drawn as dark lines for canny, scribble, lineart and pose, its luminance as
 * light and shade for depth — by `weight` times the share of the schedule it acts on.
 * A unit of weight 0 leaves the picture byte-identical. Undefined when the spec has neither.
 *
 * @throws UnrecoverableError (`invalid_image`) when an image does not decode.
 */
export async function prepareConditioning(spec: JobSpec, inputs: GenerateInputs | undefined): Promise<PreparedConditioning | undefined> {
  const guidanceCount = spec.guidanceImages?.length ?? 0;
  const units = spec.controlnet ?? [];
  if (guidanceCount === 0 && units.length === 0) return undefined;
  const latent = latentSize(spec.width, spec.height);

  const guidanceBytes = inputs?.guidance ?? [];
  if (guidanceBytes.length !== guidanceCount) throw new UnrecoverableError(`The job names ${guidanceCount} guidance images but ${guidanceBytes.length} were loaded`, 'invalid_parameter');
  const stats = guidanceCount === 0 ? undefined : averageStats(await Promise.all(guidanceBytes.map((bytes) => decodeOrFail(() => channelStats(bytes), 'guidance'))));

  const controlBytes = inputs?.controlnet ?? [];
  if (controlBytes.length !== units.length) throw new UnrecoverableError(`The job names ${units.length} ControlNet units but ${controlBytes.length} control images were loaded`, 'invalid_parameter');
  const controls: ControlMap[] = [];
  for (const [i, unit] of units.entries()) {
    const amount = Math.min(1, Math.max(0, unit.weight * CONTROL_GAIN * (unit.end - unit.start)));
    if (amount === 0) continue;
    const rgb = await decodeOrFail(() => centerCropTo(controlBytes[i]!, latent.width, latent.height), 'control');
    const luma = luminance(rgb, latent.width * latent.height);
    controls.push({ type: unit.type, amount, map: EDGE_TYPES.includes(unit.type) ? edgeMagnitude(luma, latent.width, latent.height) : luma });
  }

  return {
    apply(target) {
      const data = Float32Array.from(target.data);
      if (stats) transferStats(data, stats);
      for (const control of controls) applyControl(data, control);
      for (let i = 0; i < data.length; i += 1) data[i] = Math.min(1, Math.max(-1, data[i]!));
      return { width: target.width, height: target.height, data };
    },
  };
}

async function decodeOrFail<T>(work: () => Promise<T>, what: string): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new UnrecoverableError(`A ${what} image could not be decoded: ${(error as Error).message}`, 'invalid_image', { cause: error });
  }
}

/** Per-channel mean and standard deviation in the latent range −1…1. */
async function channelStats(bytes: Buffer): Promise<ChannelStats> {
  const raw = await sharp(bytes).removeAlpha().resize(STATS_SIDE, STATS_SIDE, { fit: 'cover' }).raw().toBuffer();
  return statsOf(Float32Array.from(raw, (v) => (v / 255) * 2 - 1));
}

function statsOf(data: Float32Array): ChannelStats {
  const pixels = data.length / 3;
  const mean = [0, 0, 0];
  const sq = [0, 0, 0];
  for (let i = 0; i < data.length; i += 1) {
    mean[i % 3]! += data[i]! / pixels;
    sq[i % 3]! += (data[i]! * data[i]!) / pixels;
  }
  return { mean, std: mean.map((m, c) => Math.sqrt(Math.max(0, sq[c]! - m * m))) };
}

function averageStats(all: readonly ChannelStats[]): ChannelStats {
  const avg = (pick: (s: ChannelStats) => readonly number[]) => [0, 1, 2].map((c) => all.reduce((sum, s) => sum + pick(s)[c]!, 0) / all.length);
  return { mean: avg((s) => s.mean), std: avg((s) => s.std) };
}

/** Reinhard-style colour transfer in place, blended by GUIDANCE_STRENGTH. */
function transferStats(data: Float32Array, guide: ChannelStats): void {
  const own = statsOf(data);
  for (let i = 0; i < data.length; i += 1) {
    const c = i % 3;
    const scale = own.std[c]! > 1e-6 ? Math.min(3, guide.std[c]! / own.std[c]!) : 1;
    const moved = guide.mean[c]! + (data[i]! - own.mean[c]!) * scale;
    data[i] = data[i]! + GUIDANCE_STRENGTH * (moved - data[i]!);
  }
}

/** Rec. 601 luma, 0–1, from 8-bit RGB. */
function luminance(rgb: Buffer, pixels: number): Float32Array {
  const out = new Float32Array(pixels);
  for (let p = 0; p < pixels; p += 1) out[p] = (0.299 * rgb[p * 3]! + 0.587 * rgb[p * 3 + 1]! + 0.114 * rgb[p * 3 + 2]!) / 255;
  return out;
}

/** Sobel gradient magnitude, normalised so the strongest edge is 1 (a flat image has none). */
function edgeMagnitude(luma: Float32Array, width: number, height: number): Float32Array {
  const at = (x: number, y: number) => luma[Math.min(height - 1, Math.max(0, y)) * width + Math.min(width - 1, Math.max(0, x))]!;
  const out = new Float32Array(width * height);
  let max = 0;
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const gx = at(x + 1, y - 1) + 2 * at(x + 1, y) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2 * at(x - 1, y) - at(x - 1, y + 1);
      const gy = at(x - 1, y + 1) + 2 * at(x, y + 1) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2 * at(x, y - 1) - at(x + 1, y - 1);
      const m = Math.hypot(gx, gy);
      out[y * width + x] = m;
      if (m > max) max = m;
    }
  }
  if (max > 1e-6) for (let i = 0; i < out.length; i += 1) out[i] = out[i]! / max;
  return out;
}

/** Lines darken the target where the control has edges; depth sets its light and shade. */
function applyControl(data: Float32Array, control: ControlMap): void {
  const pixels = control.map.length;
  for (let p = 0; p < pixels; p += 1) {
    const value = control.map[p]!;
    if (control.type === 'depth') {
      const o = p * 3;
      const luma = 0.299 * data[o]! + 0.587 * data[o + 1]! + 0.114 * data[o + 2]!;
      const shift = control.amount * (value * 2 - 1 - luma);
      for (let c = 0; c < 3; c += 1) data[o + c] = data[o + c]! + shift;
    } else {
      const t = control.amount * value;
      for (let c = 0; c < 3; c += 1) data[p * 3 + c] = data[p * 3 + c]! + t * (-1 - data[p * 3 + c]!);
    }
  }
}
