import { isUniqueViolation } from '../db/dialect.js';
import type { UsersRepo } from '../db/repos/users-repo.js';
import { AtelierError } from '../errors/atelier-error.js';

/** Unicode control (Cc: C0, DEL, C1) and format (Cf: bidi overrides, zero-width) characters. */
const CONTROL_OR_FORMAT = /[\p{Cc}\p{Cf}]/u;

/** Creates a user with a fresh token; the token is returned once and stored only hashed. */
export async function addUser(users: UsersRepo, name: string, role: 'admin' | 'user', now = Date.now()) {
  const trimmed = name.trim();
  // Names are printed by `atelier users list` and shown in Admin: an escape sequence would
  // drive the admin's terminal, a right-to-left override would disguise the name.
  if (CONTROL_OR_FORMAT.test(trimmed)) {
    throw new AtelierError('invalid_parameter', `Expected a user name without control or formatting characters (such as ESC or a right-to-left override) but received ${JSON.stringify(trimmed.slice(0, 40))}`, { field: 'name' });
  }
  const taken = () => new AtelierError('invalid_parameter', `A user named '${trimmed}' already exists`, { field: 'name' });
  if (await users.findByName(trimmed)) throw taken();
  // Another node may create the same name between the check and the insert; the unique
  // index on users.name then refuses this one.
  const user = await users.create(trimmed, role, now).catch((error: unknown) => {
    throw isUniqueViolation(error) ? taken() : error;
  });
  const token = await users.addToken(user.id, 'created with the user', now);
  return { id: user.id, name: user.name, role: user.role, token };
}
