import { AtelierError } from '../errors/atelier-error.js';
import type { InputImage, Mode } from './job-spec.js';

export interface ModeImages {
  readonly reference?: InputImage;
  readonly start?: InputImage;
  readonly end?: InputImage;
}

const FIELD = { reference: 'reference_image', start: 'start_image', end: 'end_image' } as const;
const ALLOWED: Record<Mode, readonly (keyof ModeImages)[]> = {
  t2i: [],
  i2i: ['reference'],
  t2v: [],
  i2v: ['start', 'end'],
  ti2v: ['start', 'end'],
};
const REQUIRED: Record<Mode, readonly (keyof ModeImages)[]> = { t2i: [], i2i: ['reference'], t2v: [], i2v: ['start'], ti2v: ['start'] };
const MODE_NAMES: Record<Mode, string> = {
  t2i: 'text-to-image',
  i2i: 'image-to-image',
  t2v: 'text-to-video',
  i2v: 'image-to-video (i2v)',
  ti2v: 'text+image-to-video (ti2v)',
};

/** Start and end frames may differ in aspect ratio by at most this fraction (ti2v). */
export const ASPECT_TOLERANCE = 0.05;

/**
 * The per-mode image rules of SPEC §2 (seed 001): which images a mode takes, which it
 * requires, and that ti2v's frames share an aspect ratio. Returns the warnings to show.
 */
export function checkModeImages(mode: Mode, images: ModeImages): string[] {
  for (const role of Object.keys(FIELD) as (keyof ModeImages)[]) {
    if (images[role] && !ALLOWED[mode].includes(role)) {
      throw new AtelierError('invalid_parameter', `${MODE_NAMES[mode]} takes no ${FIELD[role]}`, { field: FIELD[role] });
    }
  }
  for (const role of REQUIRED[mode]) {
    if (!images[role]) throw new AtelierError('invalid_parameter', `Expected a ${FIELD[role]} for ${MODE_NAMES[mode]}`, { field: FIELD[role] });
  }
  const warnings: string[] = [];
  if (mode === 'i2v' && images.end) {
    warnings.push('end_image was accepted, but i2v models only condition on the start image; use a ti2v model to reach the end frame');
  }
  if (mode === 'ti2v' && images.start && images.end) {
    const start = images.start.width / images.start.height;
    const end = images.end.width / images.end.height;
    if (Math.abs(start - end) / start > ASPECT_TOLERANCE) {
      throw new AtelierError(
        'invalid_parameter',
        `Expected end_image with the aspect ratio of start_image (within 5%) but received ${end.toFixed(3)} against ${start.toFixed(3)}`,
        { field: 'end_image' },
      );
    }
  }
  return warnings;
}
