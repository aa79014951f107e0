import { describe, expect, it } from 'vitest';
import { stopTask, type A1111TaskState, type StopTaskOptions } from '../../../src/backends/a1111/a1111-task-stop.js';
import { waitFor } from '../../helpers/backend-spec.js';

/** A scripted server: `states` are the answers of /internal/progress in turn (the last repeats). */
function script(states: A1111TaskState[], overrides: Partial<StopTaskOptions> = {}) {
  const asked: A1111TaskState[] = [];
  let interrupts = 0;
  let settle: () => void = () => undefined;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const close = new AbortController();
  const stop = stopTask({
    taskState: async () => {
      const state = states[Math.min(asked.length, states.length - 1)]!;
      asked.push(state);
      return state;
    },
    interrupt: async () => void (interrupts += 1),
    settled,
    pollMs: 2,
    deadline: Date.now() + 10_000,
    unknownGraceMs: 10_000,
    signal: close.signal,
    ...overrides,
  });
  return { stop, asked, interrupts: () => interrupts, settle, close };
}

describe('stopping our task after a cancel (a1111-task-stop)', () => {
  it('sends nothing while our task is queued, one interrupt when it is active, then stops', async () => {
    const s = script(['queued', 'queued', 'queued', 'active']);
    await s.stop.decided;
    expect(s.interrupts()).toBe(0); // queued behind another task: leave that task alone
    await s.stop.finished;
    expect(s.interrupts()).toBe(1);
    expect(s.asked).toEqual(['queued', 'queued', 'queued', 'active']);
  });

  it('interrupts before deciding when our task already runs (a cancel mid-run)', async () => {
    const s = script(['active']);
    await s.stop.decided;
    expect(s.interrupts()).toBe(1);
  });

  it('sends nothing for a task that completed, and waits for one the server does not know yet', async () => {
    const s = script(['unknown', 'unknown', 'completed']);
    await s.stop.finished;
    expect(s.interrupts()).toBe(0);
    expect(s.asked).toHaveLength(3);
  });

  it('without /internal/progress: interrupts at once, again each interval, and never after our request settles', async () => {
    const s = script(['unavailable']);
    await s.stop.decided;
    expect(s.interrupts()).toBe(1);
    await waitFor(() => s.interrupts() >= 3);
    s.settle();
    await s.stop.finished;
    const sent = s.interrupts();
    await new Promise((resolve) => setImmediate(resolve));
    expect(s.interrupts()).toBe(sent);
  });

  it('a server that never learns our id (pre-1.8 ignores force_task_id) is treated like one without /internal/progress after the grace time', async () => {
    const s = script(['unknown'], { unknownGraceMs: 20 });
    await waitFor(() => s.interrupts() >= 2);
    s.settle();
    await s.stop.finished;
  });

  it('after a timeout (no request left to watch) interrupts once on such a server', async () => {
    const asked: A1111TaskState[] = [];
    let interrupts = 0;
    const stop = stopTask({ taskState: async () => (asked.push('unavailable'), 'unavailable'), interrupt: async () => void (interrupts += 1), pollMs: 1, deadline: Date.now() + 10_000, unknownGraceMs: 1, signal: new AbortController().signal });
    await stop.finished;
    expect(interrupts).toBe(1);
  });

  it('is bounded: it gives up on an unreachable server, at the deadline, and on close', async () => {
    const unreachable = script(['unreachable']);
    await unreachable.stop.finished;
    expect([unreachable.asked.length, unreachable.interrupts()]).toEqual([3, 0]);

    const late = script(['queued'], { deadline: Date.now() + 30 });
    await late.stop.finished;
    expect(late.interrupts()).toBe(0);

    const closed = script(['queued']);
    await closed.stop.decided;
    closed.close.abort();
    await closed.stop.finished;
    expect(closed.interrupts()).toBe(0);

    const settled = script(['queued']);
    await settled.stop.decided;
    settled.settle();
    await settled.stop.finished;
  });
});
