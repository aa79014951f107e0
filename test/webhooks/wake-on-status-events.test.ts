import { describe, expect, it } from 'vitest';
import type { JobEventsRepo } from '../../src/db/repos/job-events-repo.js';
import { createInProcessEventBus } from '../../src/events/in-process/in-process-event-bus.js';
import { createJobEvents } from '../../src/events/job-events.js';
import { wakeOnWebhookEvents } from '../../src/webhooks/wake-on-status-events.js';

const repo: JobEventsRepo = {
  append: async (jobId, userId, type, data, at) => ({ jobId, userId, seq: 1, type, data, at }),
  listAfter: async () => [],
};

describe('wakeOnWebhookEvents', () => {
  it('wakes the dispatcher after an event the run subscribed to, and for nothing else', async () => {
    let wakes = 0;
    const events = wakeOnWebhookEvents(createJobEvents(repo, createInProcessEventBus()), () => wakes++);
    const hooked = { id: 'j1', user_id: 'u1', webhook_url: 'https://example.com/hook', webhook_events: 'running,canceled' };
    const plain = { id: 'j2', user_id: 'u1', webhook_url: null, webhook_events: null };
    const seen: string[] = [];
    events.subscribe('*', (event) => seen.push(`${event.jobId}:${event.type}`));

    await events.emit(hooked, 'progress', {});
    await events.emit(hooked, 'failed', {});
    await events.emit(plain, 'canceled', {});
    await events.emit({ id: 'j3', user_id: 'u1' }, 'canceled', {});
    expect(wakes).toBe(0);
    await events.announce(hooked, { seq: 2, type: 'running', data: {}, at: 1 });
    expect(wakes).toBe(1);
    await events.emit(hooked, 'canceled', {});
    expect(wakes).toBe(2);
    // The events themselves are untouched.
    expect(seen).toEqual(['j1:progress', 'j1:failed', 'j2:canceled', 'j3:canceled', 'j1:running', 'j1:canceled']);
  });
});
