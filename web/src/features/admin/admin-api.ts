import { api } from '../../api/client';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';
export const JOB_STATUSES: readonly JobStatus[] = ['queued', 'running', 'succeeded', 'failed', 'canceled'];

/** One row of `GET /api/admin/jobs` (src/api/routes/admin-jobs.ts). */
export interface AdminJob {
  readonly id: string;
  readonly status: JobStatus;
  readonly userId: string;
  /** null once the user was removed. */
  readonly userName: string | null;
  readonly mode: string;
  readonly model: string;
  readonly backend: string;
  readonly prompt: string;
  readonly progress: number;
  readonly attempts: number;
  readonly cached: boolean;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  readonly error: { readonly code: string; readonly message: string } | null;
}

export interface AdminJobsPage {
  readonly jobs: readonly AdminJob[];
  readonly nextCursor: string | null;
}

/** One user of `GET /api/admin/users`. */
export interface AdminUser {
  readonly id: string;
  readonly name: string;
  readonly role: 'admin' | 'user';
  readonly createdAt: string;
  /** API tokens the user holds. */
  readonly tokens: number;
}

/** A token just issued: shown once, never again. */
export interface IssuedToken {
  readonly userName: string;
  readonly token: string;
  /** Tokens deleted with it (a rotation), 0 for an added one. */
  readonly revoked: number;
}

export const JOBS_PER_PAGE = 25;

export function adminJobsPath(status: JobStatus | undefined, cursor?: string): string {
  const query = new URLSearchParams({ limit: String(JOBS_PER_PAGE) });
  if (status) query.set('status', status);
  if (cursor) query.set('cursor', cursor);
  return `/api/admin/jobs?${query}`;
}

export const fetchAdminJobs = (status: JobStatus | undefined, cursor?: string, signal?: AbortSignal) => api<AdminJobsPage>(adminJobsPath(status, cursor), signal ? { signal } : {});

export const cancelJob = (id: string) => api<unknown>(`/api/runs/${encodeURIComponent(id)}/cancel`, { method: 'POST' });

export const fetchUsers = () => api<{ users: AdminUser[] }>('/api/admin/users').then((body) => body.users);

export async function createUser(name: string, role: 'admin' | 'user'): Promise<IssuedToken> {
  const created = await api<{ name: string; token: string }>('/api/admin/users', { body: { name, role } });
  return { userName: created.name, token: created.token, revoked: 0 };
}

/** A new token for the user; with `revokeOthers` every other token of theirs stops working at once. */
export async function issueToken(user: AdminUser, revokeOthers: boolean): Promise<IssuedToken> {
  const issued = await api<{ name: string; token: string; revokedTokens: number }>(`/api/admin/users/${encodeURIComponent(user.id)}/tokens?revoke_others=${revokeOthers}`, { method: 'POST' });
  return { userName: issued.name, token: issued.token, revoked: issued.revokedTokens };
}

export const removeUser = (user: AdminUser) => api<unknown>(`/api/admin/users/${encodeURIComponent(user.id)}`, { method: 'DELETE' });

/** "850 ms", "12.4 s", "3 min 05 s", "1 h 02 min": a job's duration at a glance. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
  return `${Math.floor(seconds / 3600)} h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')} min`;
}
