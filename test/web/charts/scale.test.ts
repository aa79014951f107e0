import { describe, expect, it } from 'vitest';
import { barLayout, formatPercent, niceMax, niceTicks, ringDash, sparklinePoints, stackSegments, ticks } from '../../../web/src/features/charts/scale';

describe('chart scales', () => {
  it('rounds axis maxima up to 1, 2 or 5 × 10ⁿ', () => {
    expect([0, -3, NaN, 0.3, 1, 3, 7, 10, 11, 42, 99, 250, 501].map(niceMax)).toEqual([1, 1, 1, 0.5, 1, 5, 10, 10, 20, 50, 100, 500, 1000]);
    expect(ticks(20, 4)).toEqual([0, 5, 10, 15, 20]);
  });

  it('puts axis ticks on round steps, whole numbers for small counts', () => {
    expect(niceTicks(1)).toEqual([0, 1]);
    expect(niceTicks(5)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(niceTicks(10)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(20)).toEqual([0, 5, 10, 15, 20]);
    expect(niceTicks(500)).toEqual([0, 100, 200, 300, 400, 500]);
    expect(niceTicks(0.2)).toEqual([0, 0.05, 0.1, 0.15, 0.2]);
  });

  it('lays bars out along the width, scaled to the maximum, growing from the baseline', () => {
    const bars = barLayout([10, 0, 5], 300, 100, 10, 0);
    expect(bars.map((b) => [b.x, b.width])).toEqual([
      [0, 100],
      [100, 100],
      [200, 100],
    ]);
    expect(bars.map((b) => b.height)).toEqual([100, 0, 50]);
    expect(bars.map((b) => b.y)).toEqual([0, 100, 50]);
    // A tiny non-zero value keeps a visible sliver; gaps centre each bar in its slot.
    const [tiny] = barLayout([0.001], 100, 100, 1000, 0.5);
    expect(tiny).toMatchObject({ height: 1, y: 99, x: 25, width: 50 });
    expect(barLayout([], 100, 100)).toEqual([]);
  });

  it('splits a stacked bar by value and skips zero parts', () => {
    const parts = stackSegments(
      [
        { label: 'ok', value: 3 },
        { label: 'failed', value: 0 },
        { label: 'canceled', value: 1 },
      ],
      200,
    );
    expect(parts.map((p) => [p.item.label, p.x, p.width])).toEqual([
      ['ok', 0, 150],
      ['canceled', 150, 50],
    ]);
    expect(stackSegments([{ value: 0 }], 200)).toEqual([]);
  });

  it('fills a ring to the fraction, clamped', () => {
    const c = 2 * Math.PI * 10;
    expect(ringDash(0.25, 10)).toEqual({ dash: c / 4, gap: (3 * c) / 4, circumference: c });
    expect(ringDash(2, 10).dash).toBe(c);
    expect(ringDash(-1, 10).dash).toBe(0);
    expect(ringDash(NaN, 10).dash).toBe(0);
  });

  it('draws a sparkline left to right with 0 at the bottom', () => {
    expect(sparklinePoints([0, 5, 10], 100, 50, 10)).toBe('0,50 50,25 100,0');
    expect(sparklinePoints([3], 100, 50, 10)).toBe('0,35');
    expect(sparklinePoints([], 100, 50)).toBe('');
  });

  it('formats percentages', () => {
    expect([0, 0.5, 2 / 3, 1, 0.1234].map(formatPercent)).toEqual(['0%', '50%', '66.7%', '100%', '12.3%']);
  });
});
