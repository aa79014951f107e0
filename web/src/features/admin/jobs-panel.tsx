import { useId, useState } from 'react';
import { cancelJob, formatDuration, JOB_STATUSES, type AdminJob, type JobStatus } from './admin-api';
import { useAdminJobs } from './use-admin-jobs';

const STATUS_TEXT: Record<JobStatus, string> = { queued: 'Queued', running: 'Running', succeeded: 'Succeeded', failed: 'Failed', canceled: 'Canceled' };
const timeFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** Every user's jobs: status, user, model, duration and error, with Cancel on the active ones. */
export function JobsPanel({ intervalSeconds }: { intervalSeconds: number }) {
  const [status, setStatus] = useState<JobStatus | undefined>();
  const jobs = useAdminJobs(status, intervalSeconds * 1000);
  const filterId = useId();
  return (
    <section className="card admin-panel wide" aria-labelledby="admin-jobs" aria-busy={jobs.loading}>
      <div className="panel-head">
        <h2 id="admin-jobs">Jobs</h2>
        <div className="panel-tools">
          <label htmlFor={filterId} className="inline-label">
            Status
          </label>
          <select id={filterId} value={status ?? ''} onChange={(event) => setStatus((event.target.value || undefined) as JobStatus | undefined)}>
            <option value="">All</option>
            {JOB_STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_TEXT[s]}
              </option>
            ))}
          </select>
        </div>
      </div>
      <p className="muted panel-note">Every user's jobs, newest first; the first page refreshes every {intervalSeconds} s.</p>
      {jobs.error && (
        <p role="alert" className="error">
          Could not load the jobs: {jobs.error}
        </p>
      )}
      {jobs.initial && !jobs.error && <p className="loading">Loading…</p>}
      {!jobs.initial && jobs.jobs.length === 0 && <p className="muted">{status ? `No ${STATUS_TEXT[status].toLowerCase()} jobs.` : 'No jobs yet.'}</p>}
      {jobs.jobs.length > 0 && (
        <div className="table-scroll">
          <table className="admin-table jobs-table">
            <thead>
              <tr>
                <th scope="col">Status</th>
                <th scope="col">User</th>
                <th scope="col">Model</th>
                <th scope="col">Prompt</th>
                <th scope="col">Submitted</th>
                <th scope="col">Duration</th>
                <th scope="col">Error</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {jobs.jobs.map((job) => (
                <JobRow key={job.id} job={job} onCanceled={jobs.refresh} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {jobs.nextCursor && (
        <div className="load-more">
          <button type="button" onClick={jobs.loadMore} disabled={jobs.loading}>
            Older jobs
          </button>
        </div>
      )}
    </section>
  );
}

function JobRow({ job, onCanceled }: { job: AdminJob; onCanceled: () => void }) {
  const [canceling, setCanceling] = useState(false);
  const [error, setError] = useState<string>();
  const active = job.status === 'queued' || job.status === 'running';
  const cancel = () => {
    setCanceling(true);
    setError(undefined);
    cancelJob(job.id)
      .then(onCanceled)
      .catch((reason: Error) => setError(reason.message))
      .finally(() => setCanceling(false));
  };
  const prompt = job.prompt.trim() || '(no prompt)';
  return (
    <tr data-testid="job-row" data-job-id={job.id}>
      <td data-label="Status">
        <span className={`status-pill status-${job.status}`}>
          {STATUS_TEXT[job.status]}
          {job.status === 'running' ? ` ${Math.round(job.progress * 100)}%` : ''}
        </span>
        {job.cached && <span className="badge">cache</span>}
      </td>
      <td data-label="User">{job.userName ?? <span className="muted">removed user</span>}</td>
      <td data-label="Model">{job.model}</td>
      <td data-label="Prompt" className="prompt-cell" title={prompt}>
        {prompt}
      </td>
      <td data-label="Submitted">
        <time dateTime={job.createdAt}>{timeFormat.format(new Date(job.createdAt))}</time>
      </td>
      <td data-label="Duration" className="num">
        {formatDuration(job.durationMs)}
      </td>
      <td data-label="Error" className={job.error || error ? 'error-cell' : 'error-cell no-error'}>
        {job.error ? (
          <span title={job.error.code}>
            <code>{job.error.code}</code> {job.error.message}
          </span>
        ) : (
          <span className="muted">—</span>
        )}
        {error && (
          <span role="alert" className="error">
            Not canceled: {error}
          </span>
        )}
      </td>
      <td className="actions-cell">
        {active ? (
          <button type="button" className="small danger" onClick={cancel} disabled={canceling} aria-label={`Cancel job of ${job.userName ?? 'a removed user'}: ${prompt}`}>
            {canceling ? 'Canceling…' : 'Cancel'}
          </button>
        ) : null}
      </td>
    </tr>
  );
}
