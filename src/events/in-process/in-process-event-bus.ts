import { EventEmitter } from 'node:events';
import type { EventBus, JobEvent } from '../event-bus.js';

/** The embedded event bus: one process, one EventEmitter. */
export function createInProcessEventBus(): EventBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    async publish(event: JobEvent) {
      emitter.emit(event.jobId, event);
      emitter.emit('*', event);
    },
    subscribe(jobId, listener) {
      emitter.on(jobId, listener);
      return () => emitter.off(jobId, listener);
    },
    async close() {
      emitter.removeAllListeners();
    },
  };
}
