import { Transform, type TransformCallback } from 'node:stream';

/**
 * The bytes of staged image uploads this node received and stored, kept in memory for the JSON
 * callback that names them, so a callback that comes back to this node neither checks that they
 * exist in storage (HEAD) nor reads them back (GET) — issue #13: 2 of the 9 storage requests
 * of a staged job. A read cache only: each upload is stored before it is answered, exactly as
 * before, so a crash loses nothing; a callback on another node, or after a restart, reads
 * storage as before.
 *
 * An upload is held only if no other upload of the same key overlapped it (a worker that
 * sends an output twice at once: which one storage kept is storage's business, so the
 * callback reads it there). Bounded by bytes: the oldest jobs' uploads go first, and an
 * upload larger than a tenth of the bound is never held.
 */
export interface HeldUploads {
  /**
   * An upload of `key` (of job `jobId`) starts: whatever was held for the key is stale. Pipe
   * the upload through `tap`; call `end(true)` once storage has it, `end(false)` if it failed.
   */
  begin(jobId: string, key: string): { readonly tap: Transform; end(stored: boolean): void };
  /** The bytes held for `key`, if this node stored them and nothing since replaced them. */
  find(jobId: string, key: string): Buffer | undefined;
  /** Drops everything held for the job (its attempt ended). */
  forget(jobId: string): void;
}

export function createHeldUploads(maxBytes: number): HeldUploads {
  /** By job, oldest first; each job's uploads by staging key. */
  const held = new Map<string, Map<string, Buffer>>();
  /** Uploads in flight by key, and whether each overlapped another of its key. */
  const inFlight = new Map<string, Set<{ overlapped: boolean }>>();
  const largest = Math.floor(maxBytes / 10);
  let total = 0;

  function drop(jobId: string, key?: string): void {
    const uploads = held.get(jobId);
    if (!uploads) return;
    for (const [k, bytes] of uploads) {
      if (key !== undefined && k !== key) continue;
      total -= bytes.length;
      uploads.delete(k);
    }
    if (uploads.size === 0) held.delete(jobId);
  }

  function keep(jobId: string, key: string, bytes: Buffer): void {
    const uploads = held.get(jobId) ?? new Map<string, Buffer>();
    held.delete(jobId);
    held.set(jobId, uploads);
    uploads.set(key, bytes);
    total += bytes.length;
    while (total > maxBytes) drop(held.keys().next().value!);
  }

  return {
    begin(jobId, key) {
      drop(jobId, key);
      const mine = { overlapped: false };
      const others = inFlight.get(key) ?? new Set();
      for (const other of others) other.overlapped = mine.overlapped = true;
      others.add(mine);
      inFlight.set(key, others);
      const chunks: Buffer[] = [];
      let size = 0;
      const tap = new Transform({
        transform(chunk: Buffer, _encoding, callback: TransformCallback) {
          size += chunk.length;
          if (size <= largest) chunks.push(chunk);
          callback(null, chunk);
        },
      });
      return {
        tap,
        end(stored) {
          if (!others.delete(mine)) return;
          if (others.size === 0) inFlight.delete(key);
          if (stored && !mine.overlapped && size <= largest) keep(jobId, key, Buffer.concat(chunks, size));
        },
      };
    },
    find(jobId, key) {
      return held.get(jobId)?.get(key);
    },
    forget(jobId) {
      drop(jobId);
    },
  };
}
