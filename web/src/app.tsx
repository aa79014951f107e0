import { lazy, Suspense, useEffect } from 'react';
import { SessionProvider, useSession } from './auth/session';
import { bindStudioUser } from './features/studio/studio-store';
import { ThemeToggle } from './features/theme/theme-toggle';
import { Link, useRoute, type Route } from './router';
import { GeneratePage } from './pages/generate-page';
import { SignInPage } from './pages/sign-in-page';

// Generate is the first screen and comes with the app; the others load when first opened
// (Admin's charts, History's gallery and the detail page are not needed to start working).
const AdminPage = lazy(() => import('./pages/admin-page').then((m) => ({ default: m.AdminPage })));
const AssetPage = lazy(() => import('./pages/asset-page').then((m) => ({ default: m.AssetPage })));
const HistoryPage = lazy(() => import('./pages/history-page').then((m) => ({ default: m.HistoryPage })));

export function App() {
  return (
    <SessionProvider>
      <Gate />
    </SessionProvider>
  );
}

function Gate() {
  const { state } = useSession();
  // The Generate studio is kept per user: bound before the screens render (nothing is
  // subscribed yet), emptied once they are gone after a sign-out.
  if (state.status === 'signed-in') bindStudioUser(state.user.id);
  useEffect(() => {
    if (state.status !== 'signed-in') bindStudioUser(undefined);
  }, [state.status]);
  if (state.status === 'checking') return <p className="loading" aria-busy="true">Signing in…</p>;
  if (state.status === 'signed-out') return <SignInPage />;
  return <Shell />;
}

function Shell() {
  const route = useRoute();
  const { state, signOut } = useSession();
  const user = state.status === 'signed-in' ? state.user : undefined;
  const current = (name: Route['name']) => (route.name === name ? 'page' : undefined);
  return (
    <>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="topbar">
        <Link href="/" className="brand">
          Atelier
        </Link>
        <nav aria-label="Main">
          <Link href="/generate" aria-current={current('generate')}>
            Generate
          </Link>
          <Link href="/history" aria-current={current('history')}>
            History
          </Link>
          {user?.role === 'admin' && (
            <Link href="/admin" aria-current={current('admin')}>
              Admin
            </Link>
          )}
        </nav>
        <span className="who">{user?.name}</span>
        <ThemeToggle />
        <button type="button" className="ghost" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1} className={route.name === 'generate' ? 'wide' : undefined}>
        <Suspense fallback={<p className="loading" aria-busy="true">Loading…</p>}>
          <Screen route={route} />
        </Suspense>
      </main>
    </>
  );
}

function Screen({ route }: { route: Route }) {
  switch (route.name) {
    case 'generate':
      return <GeneratePage />;
    case 'history':
      return <HistoryPage />;
    case 'asset':
      return <AssetPage id={route.id} />;
    case 'admin':
      return <AdminPage />;
    case 'not-found':
      return (
        <section>
          <h1>Not found</h1>
          <p>
            There is nothing at this address. <Link href="/">Back to Generate</Link>
          </p>
        </section>
      );
  }
}
