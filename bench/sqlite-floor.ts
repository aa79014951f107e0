import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';

/**
 * The reference for the orchestration figure: the least durable work a job queue on SQLite
 * can do per job — insert, claim (conditional update), complete — as bare prepared
 * statements in one process with the same pragmas, no HTTP, no events, no records.
 */
export async function benchSqliteFloor(jobs: number): Promise<{ jobsPerSecond: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'atelier-floor-'));
  const db = new SQLite(join(dir, 'floor.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('create table q (id text primary key, state text not null, priority integer not null, available_at integer not null, lease text)');
  db.exec('create index q_claim on q (state, priority, available_at)');
  const insert = db.prepare("insert into q values (?, 'waiting', 0, ?, null)");
  const claim = db.prepare(
    "update q set state = 'active', lease = ? where id = (select id from q where state = 'waiting' order by priority desc, available_at limit 1) and state = 'waiting' returning id",
  );
  const complete = db.prepare('delete from q where id = ? and lease = ?');
  const started = performance.now();
  for (let i = 0; i < jobs; i++) insert.run(randomUUID(), Date.now());
  for (let i = 0; i < jobs; i++) {
    const lease = randomUUID();
    const row = claim.get(lease) as { id: string };
    complete.run(row.id, lease);
  }
  const seconds = (performance.now() - started) / 1000;
  db.close();
  await rm(dir, { recursive: true, force: true });
  return { jobsPerSecond: jobs / seconds };
}
