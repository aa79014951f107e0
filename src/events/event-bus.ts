/** What happened to a job, in the order it happened. `seq` is the job's SSE event id. */
export interface JobEvent {
  readonly jobId: string;
  readonly userId: string;
  readonly seq: number;
  readonly type: JobEventType;
  readonly data: Record<string, unknown>;
  readonly at: number;
}

export type JobEventType = 'queued' | 'running' | 'progress' | 'retrying' | 'succeeded' | 'failed' | 'canceled' | 'preview';

/**
 * `preview` events (a live image of a running job) are ephemeral: published on the bus only,
 * never written to the event log, so they have no sequence number of their own (`seq` 0) and
 * are not replayed. See src/events/preview-events.ts.
 */
export const EPHEMERAL_EVENT_TYPES: ReadonlySet<JobEventType> = new Set(['preview']);

/**
 * Fan-out of job events to whoever listens now (SSE streams, the runner's cancel watch).
 * Delivery is best-effort; the durable record is the event log in the database.
 * Adapters: in-process (embedded) and Redis pub/sub (scale-out).
 */
export interface EventBus {
  publish(event: JobEvent): Promise<void>;
  /** Listens to one job's events, or every job's with `'*'`. Returns the unsubscribe. */
  subscribe(jobId: string, listener: (event: JobEvent) => void): () => void;
  close(): Promise<void>;
}
