import { parseArgs } from 'node:util';
import { createDatabase } from '../../db/create-db.js';
import { createUsersRepo, type UsersRepo } from '../../db/repos/users-repo.js';
import type { UserRow } from '../../db/schema.js';
import { databaseUrlOf, describeDatabase } from '../../main/database-url.js';
import { loadConfig } from '../../main/load-config.js';
import { addUser } from '../../service/add-user.js';
import { issueToken, removeUser } from '../../service/manage-users.js';
import { CliError, UsageError } from '../cli-error.js';
import { USERS_USAGE } from '../usage.js';

type UsersInvocation =
  | { readonly sub: 'list' }
  | { readonly sub: 'add'; readonly name: string; readonly admin: boolean }
  | { readonly sub: 'remove'; readonly name: string }
  | { readonly sub: 'token'; readonly name: string; readonly rotate: boolean };

/**
 * `atelier users list | add NAME [--admin] | remove NAME | token NAME [--rotate]`: manages the
 * users of the database `atelier serve` uses (found the same way: configuration file,
 * DATA_DIR, DATABASE_URL; named on stderr). `add` and `token` print the new API token on
 * stdout, alone (shown once). `remove` revokes every token of the user at once — the server
 * checks tokens in the database on every request — and keeps its runs. Options go anywhere;
 * an unknown option or a misplaced one is a usage error (exit 64). Safe while the server runs.
 *
 * @example atelier users token alice --rotate   # stdout: atl_…; alice's other tokens stop working
 */
export async function usersCommand(args: string[]): Promise<void> {
  const invocation = parseInvocation(args);
  const config = loadConfig(process.env);
  const url = databaseUrlOf(config);
  process.stderr.write(`Using the database ${describeDatabase(url)}\n`);
  const database = await createDatabase(url);
  try {
    await run(createUsersRepo(database.db), invocation);
  } finally {
    await database.close();
  }
}

async function run(users: UsersRepo, invocation: UsersInvocation): Promise<void> {
  switch (invocation.sub) {
    case 'list':
      for (const user of await users.list()) {
        const tokens = `${user.tokens} ${user.tokens === 1 ? 'token' : 'tokens'}`;
        process.stdout.write(`${user.name}\t${user.role}\t${user.id}\t${tokens}\tcreated ${new Date(Number(user.created_at)).toISOString()}\n`);
      }
      return;
    case 'add': {
      const created = await addUser(users, invocation.name, invocation.admin ? 'admin' : 'user');
      process.stderr.write(`Created ${created.role} '${created.name}' (${created.id}). Its API token (shown once):\n`);
      process.stdout.write(`${created.token}\n`);
      return;
    }
    case 'remove': {
      const user = await named(users, invocation.name);
      await removeUser(users, user);
      process.stderr.write(`Removed ${user.role} '${user.name}' (${user.id}): its API tokens no longer work; its runs stay\n`);
      return;
    }
    case 'token': {
      const user = await named(users, invocation.name);
      const { token, revoked } = await issueToken(users, user, { revokeOthers: invocation.rotate });
      const rotated = invocation.rotate ? `; ${revoked} earlier ${revoked === 1 ? 'token' : 'tokens'} revoked` : '';
      process.stderr.write(`New API token for ${user.role} '${user.name}' (${user.id}), shown once${rotated}:\n`);
      process.stdout.write(`${token}\n`);
      return;
    }
  }
}

async function named(users: UsersRepo, name: string): Promise<UserRow> {
  const user = await users.findByName(name);
  if (!user) throw new CliError(`No user named '${name}'`);
  return user;
}

function parseInvocation(args: string[]): UsersInvocation {
  let parsed;
  try {
    parsed = parseArgs({ args, strict: true, allowPositionals: true, options: { admin: { type: 'boolean' }, rotate: { type: 'boolean' } } });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USERS_USAGE}`);
  }
  const { admin = false, rotate = false } = parsed.values;
  const [sub, name, ...extra] = parsed.positionals;
  const usage = (problem: string) => new UsageError(`${problem}\n${USERS_USAGE}`);
  if (extra.length > 0) throw usage(`Unexpected argument '${extra[0]}'`);
  if (admin && sub !== 'add') throw usage('--admin goes with users add');
  if (rotate && sub !== 'token') throw usage('--rotate goes with users token');
  switch (sub) {
    case 'list':
      if (name !== undefined) throw usage(`Unexpected argument '${name}'`);
      return { sub };
    case 'add':
    case 'remove':
    case 'token':
      if (name === undefined || name.trim() === '') throw usage(`users ${sub} needs a NAME`);
      return sub === 'add' ? { sub, name, admin } : sub === 'token' ? { sub, name, rotate } : { sub, name };
    case undefined:
      throw usage('users needs a subcommand');
    default:
      throw usage(`Unknown users command '${sub}'`);
  }
}
