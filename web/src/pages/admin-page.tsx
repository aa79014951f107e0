import { useSession } from '../auth/session';
import { BackendsPanel, CachePanel, DurationPanel, QueuePanel } from '../features/admin/admin-panels';
import { JobsPanel } from '../features/admin/jobs-panel';
import { REFRESH_SECONDS, useAdminMetrics } from '../features/admin/use-admin-metrics';
import { UsersPanel } from '../features/admin/users-panel';
import '../styles/admin.css';

/**
 * The admin screen: charts of the server's own metrics (counters since this server started),
 * every user's jobs with cancel, and users with their tokens; refreshed while visible.
 */
export function AdminPage() {
  const { state } = useSession();
  if (state.status !== 'signed-in' || state.user.role !== 'admin') return <AdminsOnly />;
  return <Dashboard me={state.user.id} />;
}

function AdminsOnly() {
  return (
    <section className="admin-page">
      <h1>Admin</h1>
      <p role="alert" className="card">
        This dashboard is for admins only. Sign in with an admin token to see it.
      </p>
    </section>
  );
}

function Dashboard({ me }: { me: string }) {
  const state = useAdminMetrics();
  if (state.status === 'forbidden') return <AdminsOnly />;
  const metrics = state.status === 'ready' ? state.metrics : state.status === 'error' ? state.last : undefined;
  return (
    <section className="admin-page" aria-busy={state.status === 'loading'}>
      <div className="admin-head">
        <h1>Admin</h1>
        <p className="muted" aria-live="polite">
          {state.status === 'ready' ? `Updated ${state.updatedAt.toLocaleTimeString()} · refreshes every ${REFRESH_SECONDS} s` : state.status === 'loading' ? 'Loading…' : ''}
        </p>
      </div>
      {state.status === 'error' && (
        <p role="alert" className="error">
          Could not refresh the metrics: {state.message}
        </p>
      )}
      <div className="admin-grid">
        {metrics && (
          <>
            <CachePanel cache={metrics.cache} />
            <QueuePanel queue={metrics.queue} depth={state.status === 'loading' ? [] : state.depth} intervalSeconds={REFRESH_SECONDS} />
          </>
        )}
        <JobsPanel intervalSeconds={REFRESH_SECONDS} />
        {metrics && (
          <>
            <DurationPanel duration={metrics.jobDuration} />
            <BackendsPanel backends={metrics.backends} />
          </>
        )}
        <UsersPanel me={me} />
      </div>
    </section>
  );
}
