import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { copyText } from '../detail/clipboard';
import { createUser, fetchUsers, issueToken, removeUser, type AdminUser, type IssuedToken } from './admin-api';

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

/**
 * Users and their API tokens: the list, a form to add one (its first token shown once), and per
 * user a new token, a rotation (a new token, every other one revoked) and removal (all tokens
 * revoked, runs kept). The API stores only token hashes, so tokens are counted, never listed.
 */
export function UsersPanel({ me }: { me: string }) {
  const [users, setUsers] = useState<readonly AdminUser[]>();
  const [error, setError] = useState<string>();
  const [issued, setIssued] = useState<IssuedToken>();
  const load = useCallback(() => {
    fetchUsers()
      .then((list) => {
        setUsers(list);
        setError(undefined);
      })
      .catch((reason: Error) => setError(reason.message));
  }, []);
  useEffect(load, [load]);
  const done = (token?: IssuedToken) => {
    if (token) setIssued(token);
    load();
  };
  return (
    <section className="card admin-panel wide" aria-labelledby="admin-users">
      <h2 id="admin-users">Users and tokens</h2>
      {error && (
        <p role="alert" className="error">
          Could not load the users: {error}
        </p>
      )}
      {issued && <TokenCallout issued={issued} onDismiss={() => setIssued(undefined)} />}
      <NewUserForm onCreated={done} />
      {users && (
        <div className="table-scroll">
          <table className="admin-table users-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Created</th>
                <th scope="col">Tokens</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {users.map((user) => (
                <UserRow key={user.id} user={user} isMe={user.id === me} onChanged={done} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** A token just issued, shown once with a copy button: only its hash is kept. */
function TokenCallout({ issued, onDismiss }: { issued: IssuedToken; onDismiss: () => void }) {
  const [copied, setCopied] = useState<boolean>();
  return (
    <div className="token-callout" role="status">
      <p>
        <strong>New token for {issued.userName}</strong> — copy it now, it is not shown again
        {issued.revoked > 0 ? ` (${issued.revoked} older ${issued.revoked === 1 ? 'token' : 'tokens'} revoked)` : ''}.
      </p>
      <div className="token-row">
        <code data-testid="issued-token">{issued.token}</code>
        <button type="button" className="small" onClick={() => void copyText(issued.token).then(setCopied)}>
          {copied ? 'Copied' : 'Copy'}
        </button>
        <button type="button" className="small ghost" onClick={onDismiss}>
          Done
        </button>
      </div>
      {copied === false && <p className="error">Could not copy: select the token and copy it by hand.</p>}
    </div>
  );
}

function NewUserForm({ onCreated }: { onCreated: (token: IssuedToken) => void }) {
  const id = useId();
  const [name, setName] = useState('');
  const [role, setRole] = useState<'user' | 'admin'>('user');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) return setError('Give the user a name.');
    setBusy(true);
    setError(undefined);
    createUser(name.trim(), role)
      .then((token) => {
        setName('');
        onCreated(token);
      })
      .catch((reason: Error) => setError(reason.message))
      .finally(() => setBusy(false));
  };
  return (
    <form className="new-user" onSubmit={submit} noValidate>
      <div className="field">
        <label htmlFor={`${id}-name`}>New user</label>
        <input id={`${id}-name`} value={name} maxLength={200} placeholder="Name" autoComplete="off" aria-invalid={!!error} aria-describedby={error ? `${id}-error` : undefined} onChange={(event) => setName(event.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-role`}>Role</label>
        <select id={`${id}-role`} value={role} onChange={(event) => setRole(event.target.value as 'user' | 'admin')}>
          <option value="user">User</option>
          <option value="admin">Admin</option>
        </select>
      </div>
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Creating…' : 'Create user'}
      </button>
      {error && (
        <p id={`${id}-error`} role="alert" className="error form-error">
          {error}
        </p>
      )}
    </form>
  );
}

function UserRow({ user, isMe, onChanged }: { user: AdminUser; isMe: boolean; onChanged: (token?: IssuedToken) => void }) {
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string>();
  const act = (work: () => Promise<IssuedToken | void>) => {
    setBusy(true);
    setError(undefined);
    work()
      .then((token) => onChanged(token ?? undefined))
      .catch((reason: Error) => setError(reason.message))
      .finally(() => {
        setBusy(false);
        setConfirming(false);
      });
  };
  return (
    <tr data-testid="user-row">
      <th scope="row" data-label="Name">
        {user.name}
        {isMe && <span className="muted"> (you)</span>}
      </th>
      <td data-label="Role">{user.role === 'admin' ? 'Admin' : 'User'}</td>
      <td data-label="Created">
        <time dateTime={user.createdAt}>{dateFormat.format(new Date(user.createdAt))}</time>
      </td>
      <td data-label="Tokens" className="num">
        {user.tokens}
      </td>
      <td className="actions-cell">
        <div className="row-actions">
          <button type="button" className="small" disabled={busy} onClick={() => act(() => issueToken(user, false))} aria-label={`New token for ${user.name}`}>
            New token
          </button>
          <button type="button" className="small" disabled={busy || user.tokens === 0} onClick={() => act(() => issueToken(user, true))} aria-label={`Rotate tokens of ${user.name}`} title="A new token; every other token of this user stops working">
            Rotate
          </button>
          {confirming ? (
            <>
              <button type="button" className="small danger" disabled={busy} onClick={() => act(() => removeUser(user).then(() => undefined))} aria-label={`Confirm removing ${user.name}`}>
                Remove {user.name}?
              </button>
              <button type="button" className="small ghost" disabled={busy} onClick={() => setConfirming(false)}>
                Keep
              </button>
            </>
          ) : (
            <button type="button" className="small danger" disabled={busy} onClick={() => setConfirming(true)} aria-label={`Remove ${user.name}`} title="Revokes every token; the user's runs stay">
              Remove
            </button>
          )}
        </div>
        {error && (
          <p role="alert" className="error row-error">
            {error}
          </p>
        )}
      </td>
    </tr>
  );
}
