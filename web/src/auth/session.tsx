import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { api, ApiError, onUnauthorized } from '../api/client';
import { clearToken, readToken, saveToken } from './token';

export interface User {
  readonly id: string;
  readonly name: string;
  readonly role: 'admin' | 'user';
}

type SessionState =
  | { readonly status: 'checking' }
  | { readonly status: 'signed-out'; readonly error?: string }
  | { readonly status: 'signed-in'; readonly user: User };

interface Session {
  readonly state: SessionState;
  signIn(token: string): Promise<void>;
  signOut(): void;
}

const SessionContext = createContext<Session | null>(null);

/** Who is signed in: the stored token, checked against `GET /api/me`. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>(() => (readToken() ? { status: 'checking' } : { status: 'signed-out' }));

  const check = useCallback(async () => {
    try {
      const user = await api<User>('/api/me');
      setState({ status: 'signed-in', user });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        clearToken();
        setState({ status: 'signed-out', error: 'That API token was not accepted.' });
      } else {
        setState({ status: 'signed-out', error: `Could not reach the server: ${(error as Error).message}` });
      }
    }
  }, []);

  useEffect(() => {
    if (state.status === 'checking') void check();
  }, [state.status, check]);

  useEffect(
    () =>
      onUnauthorized(() => {
        clearToken();
        setState({ status: 'signed-out', error: 'Your API token is no longer accepted. Sign in again.' });
      }),
    [],
  );

  const session: Session = {
    state,
    async signIn(token: string) {
      saveToken(token);
      setState({ status: 'checking' });
    },
    signOut() {
      clearToken();
      setState({ status: 'signed-out' });
    },
  };
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

/** The signed-in user; only for components rendered behind the sign-in gate. */
export function useUser(): User {
  const { state } = useSession();
  if (state.status !== 'signed-in') throw new Error('useUser before sign-in');
  return state.user;
}
