import { describe, expect, it } from 'vitest';
import type { EventBus, JobEvent, JobEventType } from '../../src/events/event-bus.js';
import { createInProcessEventBus } from '../../src/events/in-process/in-process-event-bus.js';
import { createTerminalWaiter } from '../../src/events/terminal-waiter.js';

/** The in-process bus, counting live subscriptions. */
function countingBus(): { bus: EventBus; listeners: () => number } {
  const bus = createInProcessEventBus();
  let live = 0;
  return {
    bus: {
      ...bus,
      subscribe(jobId, listener) {
        live++;
        const off = bus.subscribe(jobId, listener);
        let done = false;
        return () => {
          if (done) return;
          done = true;
          live--;
          off();
        };
      },
    },
    listeners: () => live,
  };
}

const event = (jobId: string, type: JobEventType, seq = 1): JobEvent => ({ jobId, userId: 'u', seq, type, data: {}, at: Date.now() });

describe('createTerminalWaiter', () => {
  it.each(['succeeded', 'failed', 'canceled'] as const)('ends on %s and leaves no listener behind', async (type) => {
    const { bus, listeners } = countingBus();
    const waiter = createTerminalWaiter(bus, 'j1');
    expect(listeners()).toBe(1);
    const ended = waiter.wait(10_000);
    await bus.publish(event('j1', 'running'));
    await bus.publish(event('j1', 'progress', 2));
    await bus.publish(event('j2', 'succeeded'));
    await bus.publish(event('j1', type, 3));
    expect(await ended).toBe('terminal');
    expect(listeners()).toBe(0);
  });

  it('keeps a terminal event that arrived between subscribing and waiting', async () => {
    const { bus, listeners } = countingBus();
    const waiter = createTerminalWaiter(bus, 'j1');
    await bus.publish(event('j1', 'succeeded'));
    expect(listeners()).toBe(0);
    expect(await waiter.wait(10_000)).toBe('terminal');
  });

  it('times out, then unsubscribes', async () => {
    const { bus, listeners } = countingBus();
    const waiter = createTerminalWaiter(bus, 'j1');
    const started = Date.now();
    expect(await waiter.wait(50)).toBe('timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(listeners()).toBe(0);
  });

  it('ends when the signal aborts (a client that went away), then unsubscribes', async () => {
    const { bus, listeners } = countingBus();
    const waiter = createTerminalWaiter(bus, 'j1');
    const controller = new AbortController();
    const ended = waiter.wait(10_000, controller.signal);
    controller.abort();
    expect(await ended).toBe('aborted');
    expect(listeners()).toBe(0);
    const already = createTerminalWaiter(bus, 'j1');
    expect(await already.wait(10_000, controller.signal)).toBe('aborted');
    expect(listeners()).toBe(0);
  });

  it('stop() is idempotent and ends nothing else', async () => {
    const { bus, listeners } = countingBus();
    const a = createTerminalWaiter(bus, 'j1');
    const b = createTerminalWaiter(bus, 'j1');
    a.stop();
    a.stop();
    expect(listeners()).toBe(1);
    const ended = b.wait(10_000);
    await bus.publish(event('j1', 'failed'));
    expect(await ended).toBe('terminal');
    expect(listeners()).toBe(0);
  });
});
