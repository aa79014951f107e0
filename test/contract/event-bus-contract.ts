import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventBus, JobEvent, JobEventType } from '../../src/events/event-bus.js';

export interface EventBusFixture {
  /** A bus: one node. */
  readonly bus: EventBus;
  /**
   * Another bus on the same medium (another node), for adapters that span processes; the
   * suite then also runs every case from `bus` to `peer`.
   */
  readonly peer?: EventBus;
  cleanup(): Promise<void>;
}

let nextSeq = 1;
function event(jobId: string, type: JobEventType = 'progress', data: Record<string, unknown> = {}): JobEvent {
  return { jobId, userId: 'user-1', seq: nextSeq++, type, data, at: 1_700_000_000_000 + nextSeq };
}

/** Waits until `check` holds (delivery may be asynchronous), failing after 2 s. */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for events');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * What every EventBus adapter must do, through the port only. Cases run publisher → own
 * listeners and, for adapters with a peer, publisher → another node's listeners.
 */
export function eventBusContract(name: string, make: () => Promise<EventBusFixture>): void {
  describe(`EventBus contract: ${name}`, () => {
    let f: EventBusFixture;
    beforeEach(async () => {
      f = await make();
    });
    afterEach(async () => {
      await f.cleanup();
    });

    const routes: { route: string; publisher: () => EventBus; listener: () => EventBus }[] = [
      { route: 'same node', publisher: () => f.bus, listener: () => f.bus },
      { route: 'across nodes', publisher: () => f.bus, listener: () => f.peer! },
    ];

    for (const { route, publisher, listener } of routes) {
      describe(route, () => {
        beforeEach((context) => {
          if (route === 'across nodes' && !f.peer) context.skip();
        });

        it("delivers a job's events in the order they were published, intact", async () => {
          const received: JobEvent[] = [];
          listener().subscribe('job-a', (e) => received.push(e));
          const sent = Array.from({ length: 100 }, (_, i) => event('job-a', 'progress', { step: i + 1, totalSteps: 100, nested: { ok: true } }));
          sent.push(event('job-a', 'preview', { mime: 'image/png', image: 'data:image/png;base64,iVBORw0KGgo=' }));
          for (const e of sent) await publisher().publish(e);
          await until(() => received.length === sent.length);
          expect(received).toEqual(sent);
        });

        it("gives '*' listeners every job's events", async () => {
          const all: string[] = [];
          listener().subscribe('*', (e) => all.push(`${e.jobId}:${e.type}`));
          await publisher().publish(event('job-a', 'queued'));
          await publisher().publish(event('job-b', 'running'));
          await publisher().publish(event('job-c', 'succeeded'));
          await until(() => all.length === 3);
          expect(all).toEqual(['job-a:queued', 'job-b:running', 'job-c:succeeded']);
        });

        it("does not deliver other jobs' events", async () => {
          const mine: JobEvent[] = [];
          listener().subscribe('job-a', (e) => mine.push(e));
          await publisher().publish(event('job-b', 'progress'));
          await publisher().publish(event('job-c', 'failed'));
          const sentinel = event('job-a', 'succeeded');
          await publisher().publish(sentinel);
          await until(() => mine.length > 0);
          expect(mine).toEqual([sentinel]);
        });

        it('stops delivering to a listener once unsubscribed', async () => {
          const stopped: JobEvent[] = [];
          const kept: JobEvent[] = [];
          const unsubscribe = listener().subscribe('job-a', (e) => stopped.push(e));
          listener().subscribe('job-a', (e) => kept.push(e));
          await publisher().publish(event('job-a', 'running'));
          await until(() => stopped.length === 1 && kept.length === 1);
          unsubscribe();
          await publisher().publish(event('job-a', 'progress'));
          await publisher().publish(event('job-a', 'succeeded'));
          await until(() => kept.length === 3);
          expect(stopped).toHaveLength(1);
        });
      });
    }

    it('closes cleanly: its listeners hear nothing more, and closing twice is harmless', async () => {
      const heard: JobEvent[] = [];
      f.bus.subscribe('job-a', (e) => heard.push(e));
      await f.bus.close();
      await f.bus.close();
      await f.bus.publish(event('job-a', 'running'));
      if (f.peer) await f.peer.publish(event('job-a', 'progress'));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(heard).toEqual([]);
    });
  });
}
