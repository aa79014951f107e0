import { parseArgs } from 'node:util';
import { createDatabase } from '../../db/create-db.js';
import { createWorkerTokensRepo } from '../../db/repos/worker-tokens-repo.js';
import { databaseUrlOf, describeDatabase } from '../../main/database-url.js';
import { loadConfig } from '../../main/load-config.js';
import { CliError, UsageError } from '../cli-error.js';
import { WORKERS_USAGE } from '../usage.js';

/**
 * `atelier workers add NAME`: creates a remote worker in the configured database and prints
 * its token (`atw_…`, shown once) for `atelier worker --token`. `list` shows the workers and
 * when each was last seen; `remove` revokes a token. The database is found as `atelier serve`
 * finds it (configuration file, DATA_DIR, DATABASE_URL) and named on stderr. Safe while the
 * server runs.
 *
 * @example atelier workers add gpu-box   # stdout: atw_…
 */
export async function workersCommand(args: string[]): Promise<void> {
  const [sub, name] = parseOptions(args);
  const config = loadConfig(process.env);
  const url = databaseUrlOf(config);
  process.stderr.write(`Using the database ${describeDatabase(url)}\n`);
  const database = await createDatabase(url);
  try {
    const tokens = createWorkerTokensRepo(database.db);
    if (sub === 'add') {
      const created = await tokens.create(name!);
      process.stderr.write(`Created worker '${created.name}' (${created.id}). Its worker token (shown once; use with atelier worker --token):\n`);
      process.stdout.write(`${created.token}\n`);
    } else if (sub === 'remove') {
      if (!(await tokens.remove(name!))) throw new CliError(`No worker named '${name}'`);
      process.stderr.write(`Revoked worker '${name}'\n`);
    } else {
      for (const row of await tokens.list()) {
        const seen = row.last_seen_at === null ? 'never seen' : `last seen ${new Date(Number(row.last_seen_at)).toISOString()}`;
        process.stdout.write(`${row.name}\t${row.id}\t${seen}\n`);
      }
    }
  } finally {
    await database.close();
  }
}

function parseOptions(args: string[]): [sub: 'add' | 'remove' | 'list', name: string | undefined] {
  let positionals: string[];
  try {
    ({ positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: {} }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${WORKERS_USAGE}`);
  }
  const [sub, name, ...extra] = positionals;
  // Says what is wrong before the usage, as `atelier users` does.
  const usage = (problem: string) => new UsageError(`${problem}\n${WORKERS_USAGE.trimEnd()}`);
  if (sub === undefined) throw usage('workers needs a subcommand');
  if (sub !== 'list' && sub !== 'add' && sub !== 'remove') throw usage(`Unknown workers command '${sub}'`);
  if (sub !== 'list' && name === undefined) throw usage(`workers ${sub} needs a NAME`);
  const unexpected = sub === 'list' ? name : extra[0];
  if (unexpected !== undefined) throw usage(`Unexpected argument '${unexpected}'`);
  return [sub, name];
}
