import type { JobsRepo } from '../db/repos/jobs-repo.js';
import type { JobRow } from '../db/schema.js';
import { AtelierError } from '../errors/atelier-error.js';

/** What `GET /api/runs` filters on. */
export interface RunFilters {
  readonly status?: JobRow['status'];
  readonly mode?: string;
  readonly model?: string;
  /** 1–100. */
  readonly limit: number;
  /** The `nextCursor` of the previous page. */
  readonly cursor?: string;
}

export interface RunPage {
  readonly jobs: JobRow[];
  /** Pass as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

/**
 * A page of `userId`'s runs (every user's when undefined: the admin view), newest first. The cursor is opaque to clients: the position of
 * the page's last run, (created_at, id), so the next page starts right after it even when
 * runs were added in between — they are newer, and belong before the first page.
 *
 * @example
 * const first = await listRuns(jobs, user.id, { limit: 20 });
 * const second = await listRuns(jobs, user.id, { limit: 20, cursor: first.nextCursor! });
 */
export async function listRuns(jobs: Pick<JobsRepo, 'listForUser'>, userId: string | undefined, filters: RunFilters): Promise<RunPage> {
  const after = filters.cursor === undefined ? undefined : decodeCursor(filters.cursor);
  const rows = await jobs.listForUser({
    ...(userId !== undefined ? { userId } : {}),
    ...(filters.status !== undefined ? { status: filters.status } : {}),
    ...(filters.mode !== undefined ? { mode: filters.mode } : {}),
    ...(filters.model !== undefined ? { model: filters.model } : {}),
    ...(after !== undefined ? { after } : {}),
    limit: filters.limit + 1,
  });
  const page = rows.slice(0, filters.limit);
  const last = page.at(-1);
  return { jobs: page, nextCursor: rows.length > filters.limit && last ? encodeCursor(last) : null };
}

function encodeCursor(job: Pick<JobRow, 'created_at' | 'id'>): string {
  return Buffer.from(JSON.stringify([Number(job.created_at), job.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: number; id: string } {
  const invalid = () => new AtelierError('invalid_parameter', 'Expected the nextCursor of an earlier page for cursor but received something else', { field: 'cursor' });
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw invalid();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(value) || value.length !== 2) throw invalid();
  const [createdAt, id] = value as unknown[];
  if (!Number.isSafeInteger(createdAt) || (createdAt as number) < 0 || typeof id !== 'string' || id.length === 0 || id.length > 64) throw invalid();
  return { createdAt: createdAt as number, id };
}
