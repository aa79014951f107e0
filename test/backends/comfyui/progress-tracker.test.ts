import { describe, expect, it } from 'vitest';
import type { Progress } from '../../../src/backends/backend.js';
import { ProgressTracker } from '../../../src/backends/comfyui/progress-tracker.js';

describe('ComfyUI progress mapping', () => {
  it('adds a second sampler after the first and keeps step monotonic', () => {
    const seen: Progress[] = [];
    const tracker = new ProgressTracker(20, (p) => seen.push(p));
    for (let v = 1; v <= 20; v += 1) tracker.update('3', v, 20);
    for (let v = 1; v <= 10; v += 1) tracker.update('11', v, 10); // a refiner
    tracker.finish();
    const steps = seen.map((p) => p.step);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(new Set(steps).size).toBe(steps.length);
    expect(seen.at(-1)).toEqual({ step: 30, totalSteps: 30 });
    expect(seen.every((p) => p.step <= p.totalSteps)).toBe(true);
  });

  it('counts a node that starts over as a new segment and each prompt after the last', () => {
    const seen: Progress[] = [];
    const tracker = new ProgressTracker(8, (p) => seen.push(p));
    for (let v = 1; v <= 4; v += 1) tracker.update('3', v, 4);
    tracker.nextSegment();
    for (let v = 1; v <= 4; v += 1) tracker.update('3', v, 4);
    expect(seen.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(seen.every((p) => p.totalSteps === 8)).toBe(true);
  });

  it('ignores repeated and malformed events', () => {
    const seen: Progress[] = [];
    const tracker = new ProgressTracker(5, (p) => seen.push(p));
    tracker.update('3', 2, 5);
    tracker.update('3', 2, 5);
    tracker.update('3', Number.NaN, 5);
    tracker.update('3', 1, 0);
    expect(seen).toEqual([{ step: 2, totalSteps: 5 }]);
  });
});
