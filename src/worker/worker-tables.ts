import type { ColumnType } from 'kysely';

/**
 * The tables of migration 0007 (remote workers) as Kysely sees them. To merge into
 * `Database` (src/db/schema.ts): add `worker_tokens: WorkerTokensTable`, and add
 * `lane: ColumnType<string, string | undefined, string>` to `QueueEntriesTable`. Until then
 * the worker code and the embedded queue use these types through their own `Kysely<…>`.
 */
export interface WorkerTokensTable {
  id: string;
  /** Unique, chosen by the admin (`atelier workers add NAME`). */
  name: string;
  /** sha256 (hex) of the `atw_…` token; the token itself is never stored. */
  token_hash: string;
  /** Epoch ms. */
  created_at: number;
  /** Epoch ms of the last authenticated worker request (updated at most every 30 s). */
  last_seen_at: number | null;
}

/** The `lane` column migration 0007 adds to `queue_entries` (default 'local'). */
export interface QueueLaneColumn {
  lane: ColumnType<string, string | undefined, string>;
}

/** The part of the schema the worker-token repository needs. */
export interface WorkerDatabase {
  worker_tokens: WorkerTokensTable;
}
