import { useState, type FormEvent } from 'react';
import { useSession } from '../auth/session';

/** Shown without a valid token: where to find one, and a field to paste it. */
export function SignInPage() {
  const { state, signIn } = useSession();
  const [token, setToken] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (token.trim()) void signIn(token.trim());
  };
  return (
    <main className="sign-in">
      <form onSubmit={submit} className="card sign-in-card">
        <h1>Sign in</h1>
        <p>
          Paste an API token. <code>npm start</code> prints one for the admin, with a playground URL that signs you in directly; <code>atelier users add NAME</code> creates more.
        </p>
        {state.status === 'signed-out' && state.error && (
          <p role="alert" className="error">
            {state.error}
          </p>
        )}
        <label htmlFor="token">API token</label>
        <input id="token" name="token" type="password" autoComplete="current-password" autoFocus value={token} onChange={(e) => setToken(e.target.value)} />
        <button type="submit" className="primary" disabled={!token.trim() || state.status === 'checking'}>
          Sign in
        </button>
      </form>
    </main>
  );
}
