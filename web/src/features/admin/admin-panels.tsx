import { BarChart } from '../charts/bar-chart';
import { DonutChart } from '../charts/donut-chart';
import { Legend } from '../charts/legend';
import { Sparkline } from '../charts/sparkline';
import { StackedBar } from '../charts/stacked-bar';
import {
  backendSummary,
  cacheSummary,
  depthTrendSummary,
  healthState,
  histogramBuckets,
  histogramSummary,
  queueBars,
  queueDepth,
  queueSummary,
  type AdminMetrics,
  type BackendMetrics,
} from './metrics';

export function CachePanel({ cache }: { cache: AdminMetrics['cache'] }) {
  return (
    <section className="card admin-panel" aria-labelledby="admin-cache">
      <h2 id="admin-cache">Cache hit ratio</h2>
      <div className="cache-body">
        <DonutChart fraction={cache.hitRatio} caption="hits" label={cacheSummary(cache)} />
        <Legend
          items={[
            { label: 'Hits', value: cache.hits, tone: 'accent' },
            { label: 'Misses', value: cache.misses, tone: 'muted' },
          ]}
        />
      </div>
    </section>
  );
}

export function DurationPanel({ duration }: { duration: AdminMetrics['jobDuration'] }) {
  const buckets = histogramBuckets(duration.buckets, duration.count);
  return (
    <section className="card admin-panel wide" aria-labelledby="admin-durations">
      <h2 id="admin-durations">Job durations</h2>
      <p className="muted panel-note">{duration.count === 1 ? '1 finished job' : `${duration.count} finished jobs`}, submit to finish</p>
      <BarChart histogram bars={buckets.map((b) => ({ label: b.label, value: b.count }))} label={histogramSummary(buckets, duration.count)} axisLabel="seconds (bucket upper bound)" />
    </section>
  );
}

export function QueuePanel({ queue, depth, intervalSeconds }: { queue: AdminMetrics['queue']; depth: readonly number[]; intervalSeconds: number }) {
  const tones = { waiting: 'accent', delayed: 'warn', active: 'ok' } as const;
  return (
    <section className="card admin-panel" aria-labelledby="admin-queue">
      <h2 id="admin-queue">Queue depth</h2>
      <p className="queue-total">
        <strong>{queueDepth(queue)}</strong> <span className="muted">jobs in the queue</span>
      </p>
      <BarChart height={150} bars={queueBars(queue).map((b) => ({ ...b, tone: tones[b.label as keyof typeof tones] }))} label={queueSummary(queue)} />
      <div className="sparkline-row">
        <span className="muted">Last {depth.length} samples</span>
        <Sparkline values={depth} label={depthTrendSummary(depth, intervalSeconds)} />
      </div>
    </section>
  );
}

export function BackendsPanel({ backends }: { backends: readonly BackendMetrics[] }) {
  return (
    <section className="card admin-panel wide" aria-labelledby="admin-backends">
      <h2 id="admin-backends">Backend health</h2>
      {backends.length === 0 ? (
        <p className="muted">No backends configured.</p>
      ) : (
        <ul className="backend-tiles">
          {backends.map((backend) => (
            <BackendTile key={backend.name} backend={backend} />
          ))}
        </ul>
      )}
    </section>
  );
}

const HEALTH_TEXT = { healthy: 'Healthy', unhealthy: 'Unhealthy', unknown: 'Unknown' } as const;

function BackendTile({ backend }: { backend: BackendMetrics }) {
  const state = healthState(backend);
  const note = backend.error ?? backend.detail;
  return (
    <li className={`backend-tile health-${state}`} data-testid="backend-tile">
      <div className="backend-head">
        <span className={`health-dot health-${state}`} aria-hidden="true" />
        <strong>{backend.label || backend.name}</strong>
        <span className="badge">{backend.kind}</span>
        <span className={`health-text health-${state}`}>{HEALTH_TEXT[state]}</span>
      </div>
      {note && <p className="backend-note muted">{note}</p>}
      <StackedBar
        label={backendSummary(backend)}
        parts={[
          { label: 'Succeeded', value: backend.succeeded, tone: 'ok' },
          { label: 'Failed', value: backend.failed, tone: 'danger' },
          { label: 'Canceled', value: backend.canceled, tone: 'muted' },
        ]}
      />
      <Legend
        items={[
          { label: 'Succeeded', value: backend.succeeded, tone: 'ok' },
          { label: 'Failed', value: backend.failed, tone: 'danger' },
          { label: 'Canceled', value: backend.canceled, tone: 'muted' },
        ]}
      />
    </li>
  );
}
