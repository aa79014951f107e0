import type { UsersRepo } from '../db/repos/users-repo.js';
import type { UserRow } from '../db/schema.js';
import { AtelierError } from '../errors/atelier-error.js';

/**
 * Removes a user: every API token it has stops working at once — tokens are looked up in the
 * database on every request, never cached, so on every node — and its runs and media stay
 * (an admin still finds them). The last admin cannot be removed (409 `last_admin`).
 *
 * @example await removeUser(users, await users.findById(id))
 */
export async function removeUser(users: UsersRepo, user: UserRow, now = Date.now()): Promise<void> {
  const outcome = await users.remove(user.id, now);
  if (outcome === 'not_found') throw new AtelierError('not_found', `No user with id '${user.id}'`, { field: 'id' });
  if (outcome === 'last_admin') throw new AtelierError('last_admin', `'${user.name}' is the last admin: make another user an admin before removing it`);
}

/**
 * A new API token for `user`, shown once (only its hash is stored). With `revokeOthers` every
 * token it had is deleted in the same transaction (rotation), so the old ones are refused from
 * the next request on.
 *
 * @example const { token } = await issueToken(users, alice, { revokeOthers: true })
 */
export async function issueToken(users: UsersRepo, user: UserRow, options: { readonly revokeOthers: boolean }, now = Date.now()): Promise<{ token: string; revoked: number }> {
  if (options.revokeOthers) return users.replaceTokens(user.id, 'rotated', now);
  return { token: await users.addToken(user.id, 'issued', now), revoked: 0 };
}

/** The live user with this id, or a 404 naming it. */
export async function userById(users: UsersRepo, id: string): Promise<UserRow> {
  const user = await users.findById(id);
  if (!user) throw new AtelierError('not_found', `No user with id '${id}'`, { field: 'id' });
  return user;
}
