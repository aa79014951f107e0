import type { Progress } from '../backend.js';

/**
 * Turns ComfyUI's per-node `progress {value, max, node}` events into one monotonic
 * step / totalSteps for the whole job.
 *
 * Mapping: each progress run (a sampler node, or the same node starting over, or the next
 * prompt of a job that runs several) is a segment; a segment's steps are added after the
 * steps of the segments before it. `totalSteps` starts at the expected total
 * (steps × prompts) and only grows, when segments turn out longer than expected (a
 * refiner, a tiled upscale). Steps never go back and never exceed totalSteps.
 */
export class ProgressTracker {
  private offset = 0;
  private node: string | undefined;
  private value = 0;
  private max = 0;
  private step = 0;
  private total: number;

  constructor(expectedTotal: number, private readonly report: (progress: Progress) => void) {
    this.total = Math.max(1, expectedTotal);
  }

  /** Ends the current segment: the next event counts after it (a new prompt of the job). */
  nextSegment(): void {
    this.offset += this.max;
    this.node = undefined;
    this.value = 0;
    this.max = 0;
  }

  /** One `progress` event. */
  update(node: string | undefined, value: number, max: number): void {
    if (!(Number.isFinite(value) && Number.isFinite(max) && max > 0)) return;
    const id = node ?? '';
    if (this.node !== undefined && (id !== this.node || value < this.value)) this.nextSegment();
    this.node = id;
    this.value = value;
    this.max = max;
    this.emit(this.offset + Math.min(value, max), this.offset + max);
  }

  /** The job finished: report it complete even if some node skipped its progress (cached). */
  finish(): void {
    this.emit(this.total, this.total);
  }

  private emit(step: number, segmentEnd: number): void {
    this.total = Math.max(this.total, segmentEnd);
    if (step <= this.step) return;
    this.step = step;
    this.report({ step, totalSteps: this.total });
  }
}
