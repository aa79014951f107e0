import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely';

/**
 * The tables, as Kysely sees them. Times are epoch milliseconds (portable between SQLite
 * and PostgreSQL bigint); JSON columns are text so both dialects store them alike.
 */
export interface Database {
  users: UsersTable;
  api_tokens: ApiTokensTable;
  jobs: JobsTable;
  assets: AssetsTable;
  job_events: JobEventsTable;
  queue_entries: QueueEntriesTable;
  uploads: UploadsTable;
  prompt_cache: PromptCacheTable;
  evaluations: EvaluationsTable;
  worker_tokens: WorkerTokensTable;
  job_input_sweeps: JobInputSweepsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  webhook_secrets: WebhookSecretsTable;
}

export interface UploadsTable {
  id: string;
  user_id: string;
  /** pending: presigned, bytes not received yet; ready: validated and stored. */
  status: 'pending' | 'ready';
  filename: string;
  declared_size: number | null;
  storage_key: string | null;
  /** JSON: seed 001 image metadata, once ready. */
  metadata: string | null;
  created_at: number;
  url_expires_at: number | null;
  completed_at: number | null;
  /** Set when deletion began (retention); such a row is hidden and finished by the next sweep. */
  deleting_at: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface UsersTable {
  id: string;
  /** Unique among live users (migration 0010). */
  name: string;
  role: 'admin' | 'user';
  created_at: number;
  /** Set when the user was removed: its tokens are gone, its runs stay. Null while live. */
  deleted_at: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  /** sha256 of the token; the token itself is never stored. */
  token_hash: string;
  label: string;
  created_at: number;
  last_used_at: number | null;
}

export interface JobsTable {
  id: string;
  user_id: string;
  mode: string;
  model: string;
  backend: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';
  prompt: string;
  negative_prompt: string | null;
  /** The frozen JobSpec as JSON: every parameter, so any job can be re-run exactly. */
  spec: string;
  seed: number;
  width: number;
  height: number;
  steps: number;
  cfg_scale: number;
  sampler: string;
  num_images: number;
  priority: number;
  progress: number;
  progress_step: number;
  progress_total: number;
  attempts: number;
  max_attempts: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  error_code: string | null;
  error_message: string | null;
  idempotency_key: string | null;
  request_hash: string | null;
  /** JSON array of strings. */
  warnings: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
  /** 1 when the run was served from the prompt cache instead of rendered. */
  cached: ColumnType<number, number | undefined, number>;
  /** The run whose assets a cached run copied. */
  cached_from: ColumnType<string | null, string | null | undefined, string | null>;
  /** JSON cost estimate (src/jobs/cost.ts) taken at submission. */
  cost: ColumnType<string | null, string | null | undefined, string | null>;
  /** Where the run's status changes are POSTed (migration 0009); null: no webhook. */
  webhook_url: ColumnType<string | null, string | null | undefined, string | null>;
  /** Which status changes are delivered, as a comma list (`succeeded,failed,canceled`). */
  webhook_events: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface PromptCacheTable {
  id: string;
  user_id: string;
  seed_hash: string;
  any_seed_hash: string;
  job_id: string;
  created_at: number;
  expires_at: number;
  hits: number;
}

export interface AssetsTable {
  id: string;
  job_id: string;
  user_id: string;
  asset_index: number;
  type: 'image' | 'video';
  storage_key: string;
  thumbnail_key: string | null;
  content_type: string;
  collection: 'workspace' | 'library';
  /** JSON: SPEC §4 metadata (snake_case keys). */
  metadata: string;
  /** JSON: delivery variants, [{name, preset, format, width, height, bytes, key}]. */
  variants: ColumnType<string, string | undefined, string>;
  created_at: number;
  expires_at: number | null;
  /** Set when deletion began; such a row is hidden from every query and finished by the next sweep. */
  deleting_at: ColumnType<number | null, number | null | undefined, number | null>;
}

/** Jobs whose held input copies (`job-inputs/…`) retention has deleted. */
export interface JobInputSweepsTable {
  job_id: string;
  swept_at: number;
}

/** One stored delivery variant of an asset, as kept in `assets.variants`. */
export interface StoredVariant {
  /** `normal`, `high` or one of the preset's extra variant names. */
  readonly name: string;
  readonly preset: string;
  readonly format: 'jpeg' | 'webp' | 'avif';
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
  readonly key: string;
}

export interface JobEventsTable {
  job_id: string;
  seq: number;
  type: string;
  data: string;
  created_at: number;
}

export interface QueueEntriesTable {
  job_id: string;
  priority: number;
  state: 'waiting' | 'active';
  available_at: number;
  lease_token: string | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
  attempts: number;
  max_attempts: number;
  last_error_code: string | null;
  last_error_message: string | null;
  created_at: number;
  /** Which runners may claim the entry: 'local' (this process's runner) or 'remote:<backend>'. */
  lane: ColumnType<string, string | undefined, string>;
}

/** A live user; `deleted_at` is left out because only the users repo reads or writes it. */
export type UserRow = Omit<Selectable<UsersTable>, 'deleted_at'>;
export type JobRow = Selectable<JobsTable>;
export type NewJobRow = Insertable<JobsTable>;
export type JobUpdate = Updateable<JobsTable>;
export type AssetRow = Selectable<AssetsTable>;
export type NewAssetRow = Insertable<AssetsTable>;
export type JobEventRow = Selectable<JobEventsTable>;
export type QueueEntryRow = Selectable<QueueEntriesTable>;
/** An upload record; `deleting_at` is left out because only retention reads or writes it. */
export type UploadRow = Omit<Selectable<UploadsTable>, 'deleting_at'>;

/** Remote workers' bearer tokens (migration 0007). */
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

/**
 * The `evaluations` table (migration 0006) as Kysely sees it: one score of one asset per row.
 * `metric` is one of `EvaluationMetric` but typed as a string, so rows written by a newer
 * version with more metrics still read.
 */
export interface EvaluationsTable {
  id: string;
  /** The scored asset; rows go with it (on delete cascade). */
  asset_id: string;
  job_id: string;
  /** 'ssim' | 'psnr' | 'phash' | 'batch_diversity' | 'clip_score' */
  metric: string;
  value: number;
  /** JSON object (metric-specific, see `EvaluationRecord`), or null. */
  details: string | null;
  /** Epoch ms. */
  created_at: number;
}

/**
 * One webhook message (migration 0009): a run's status change to deliver, written by a trigger
 * on `jobs` in the same statement as the change. `id` is the `webhook-id` of every attempt.
 */
export interface WebhookDeliveriesTable {
  id: string;
  job_id: string;
  user_id: string;
  /** running | succeeded | failed | canceled */
  event: string;
  url: string;
  /** pending (due at next_attempt_at), delivered, or failed (given up). */
  state: ColumnType<'pending' | 'delivered' | 'failed', 'pending' | 'delivered' | 'failed' | undefined, 'pending' | 'delivered' | 'failed'>;
  /** Attempts begun (a claim counts one). */
  attempts: ColumnType<number, number | undefined, number>;
  /** Epoch ms the next attempt is due; while one is in flight, when its claim expires. Null once settled. */
  next_attempt_at: number | null;
  /** The node whose attempt is in flight, if any. */
  claimed_by: ColumnType<string | null, string | null | undefined, string | null>;
  last_attempt_at: ColumnType<number | null, number | null | undefined, number | null>;
  /** HTTP status of the last finished attempt; null when it got no answer. */
  last_status: ColumnType<number | null, number | null | undefined, number | null>;
  last_error: ColumnType<string | null, string | null | undefined, string | null>;
  delivered_at: ColumnType<number | null, number | null | undefined, number | null>;
  created_at: number;
}

/** One finished attempt of a delivery. */
export interface WebhookAttemptsTable {
  delivery_id: string;
  attempt: number;
  started_at: number;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
}

/** A user's webhook signing secret, `whsec_<base64>`. */
export interface WebhookSecretsTable {
  user_id: string;
  secret: string;
  created_at: number;
}
