import type { JobSpec } from '../jobs/job-spec.js';
import type { WorkerTokenRow } from './worker-tokens-repo.js';

/**
 * The wire shapes of the remote-worker protocol (docs/worker-protocol.md), shared by the
 * server (worker-service.ts) and the client (worker-client.ts).
 */

export interface ClaimRequest {
  readonly backends?: readonly string[];
  readonly wait_seconds?: number;
  readonly upload_mode?: 'direct' | 'presigned';
  /** The worker process's own label (host, GPU index), recorded as the lease owner. */
  readonly worker_id?: string;
}

/** A claimed job, as POST /api/worker/claim answers. */
export interface ClaimedJob {
  readonly job_id: string;
  readonly lease_token: string;
  readonly attempt: number;
  readonly max_attempts: number;
  readonly lease_expires_at: string;
  readonly lease_seconds: number;
  readonly heartbeat_interval_seconds: number;
  readonly backend: string;
  readonly model: string;
  readonly mode: string;
  readonly spec: JobSpec;
  readonly inputs: {
    readonly reference?: string;
    readonly start?: string;
    readonly end?: string;
    /** Signed URLs of spec.guidanceImages, in order; absent when the job has none. */
    readonly guidance?: string[];
    /** Signed URLs of the control images, index-aligned with spec.controlnet. */
    readonly controlnet?: string[];
  };
  readonly upload: {
    readonly mode: 'direct' | 'presigned';
    readonly method: 'PUT';
    readonly type: 'image' | 'video';
    readonly content_type: string;
    readonly count: number;
    readonly max_bytes: number;
    // Mutable: the route's response schema (src/api/routes/worker.ts) types it as string[].
    readonly urls: string[];
    readonly expires_at?: string;
  };
}

export interface HeartbeatRequest {
  readonly lease_token: string;
  readonly progress?: { readonly step: number; readonly total_steps: number };
  readonly preview_b64?: string;
}

export interface HeartbeatResult {
  readonly continue: boolean;
  readonly status: string;
  readonly lease_expires_at?: string;
}

export interface CallbackAsset {
  readonly type: string;
  readonly url: string;
  readonly thumbnail_url?: string | null;
  readonly metadata?: object | null;
  readonly index?: number;
}

/** Seed 000's callback, plus the lease token and optional error code / retry hint. */
export interface CompleteRequest {
  readonly job_id?: string;
  readonly lease_token: string;
  readonly status: 'completed' | 'succeeded' | 'failed';
  readonly assets?: readonly CallbackAsset[];
  readonly error_message?: string | null;
  readonly error_code?: string | null;
  readonly retryable?: boolean;
  readonly metadata?: object | null;
}

export interface CompleteResult {
  readonly job_id: string;
  readonly status: 'succeeded' | 'retrying' | 'failed';
  readonly attempt: number;
  readonly assets: { id: string; index: number; type: string; url: string; thumbnail_url: string | null; metadata: Record<string, unknown> }[];
  readonly error: { code: string; message: string } | null;
  readonly retry_at?: string;
}

export type UploadAuth =
  | { readonly kind: 'lease'; readonly worker: WorkerTokenRow; readonly leaseToken: string }
  | { readonly kind: 'signed'; readonly attempt: number; readonly expires: string; readonly signature: string };

export interface UploadResult {
  readonly index: number;
  /** The staging key: put it in the callback's `assets[].url`. */
  readonly url: string;
  readonly bytes: number;
  readonly sha256: string;
}
