/**
 * The arithmetic behind the hand-written SVG charts: axis maxima, bar geometry, ring dashes,
 * sparkline paths. Pure, so the numbers are tested without a DOM.
 */

/** The smallest "nice" number (1, 2, 5 × 10ⁿ) at or above `value`; 1 for empty data. */
export function niceMax(value: number): number {
  if (!Number.isFinite(value) || value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

/** Evenly spaced ticks from 0 to `max` inclusive (`count` intervals). */
export function ticks(max: number, count = 4): number[] {
  return Array.from({ length: count + 1 }, (_, i) => (max * i) / count);
}

/**
 * Ticks for a nice maximum at round steps: whole numbers up to 5 count in ones (no "0.3 jobs"),
 * 10 in twos, 20 in fives, 50 in tens — the 1, 2, 5 pattern at any scale.
 */
export function niceTicks(max: number): number[] {
  if (Number.isInteger(max) && max <= 5) return ticks(max, Math.max(1, max));
  const mantissa = Math.round(max / 10 ** Math.floor(Math.log10(max)));
  const intervals = mantissa === 2 ? 4 : 5;
  return ticks(max, intervals).map((t) => Number(t.toPrecision(6)));
}

export interface BarGeometry {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Vertical bars across `width`, growing up from `height` (the baseline), scaled to `max`.
 * A non-zero value keeps at least 1px so it stays visible next to zeros.
 */
export function barLayout(values: readonly number[], width: number, height: number, max = niceMax(Math.max(0, ...values)), gap = 0.2): BarGeometry[] {
  if (values.length === 0) return [];
  const slot = width / values.length;
  const barWidth = slot * (1 - gap);
  return values.map((value, i) => {
    const h = value <= 0 ? 0 : Math.max(1, (value / max) * height);
    return { x: i * slot + (slot - barWidth) / 2, y: height - h, width: barWidth, height: h };
  });
}

export interface Segment<T> {
  readonly item: T;
  readonly x: number;
  readonly width: number;
}

/** Splits `width` between items in proportion to their values (a stacked bar); zeros take no room. */
export function stackSegments<T extends { readonly value: number }>(items: readonly T[], width: number): Segment<T>[] {
  const total = items.reduce((sum, item) => sum + Math.max(0, item.value), 0);
  if (total === 0) return [];
  let x = 0;
  const segments: Segment<T>[] = [];
  for (const item of items) {
    if (item.value <= 0) continue;
    const w = (item.value / total) * width;
    segments.push({ item, x, width: w });
    x += w;
  }
  return segments;
}

/** stroke-dasharray for a ring of `radius` filled to `fraction` (clamped to 0–1). */
export function ringDash(fraction: number, radius: number): { readonly dash: number; readonly gap: number; readonly circumference: number } {
  const circumference = 2 * Math.PI * radius;
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  return { dash: f * circumference, gap: circumference - f * circumference, circumference };
}

/**
 * The SVG points of a sparkline through `values`, left to right across `width`, 0 at the
 * bottom of `height` and `max` (default: the data's nice maximum) at the top.
 */
export function sparklinePoints(values: readonly number[], width: number, height: number, max = niceMax(Math.max(0, ...values))): string {
  if (values.length === 0) return '';
  const step = values.length === 1 ? 0 : width / (values.length - 1);
  return values.map((value, i) => `${round(i * step)},${round(height - (Math.max(0, value) / max) * height)}`).join(' ');
}

/** "42%" / "66.7%": whole percentages stay whole. */
export function formatPercent(fraction: number): string {
  const value = (Number.isFinite(fraction) ? fraction : 0) * 100;
  return `${Number.isInteger(round(value, 1)) ? Math.round(value) : round(value, 1)}%`;
}

function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
