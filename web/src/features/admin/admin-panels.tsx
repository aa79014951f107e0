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
      <p className="muted panel-note">Since start</p>
      <div className="cache-body">
        <DonutChart fraction={cache.hitRatio} caption="hit ratio" label={cacheSummary(cache)} size={180} />
        <dl className="big-numbers">
          <div>
            <dt>
              <span className="swatch tone-accent" aria-hidden="true" /> Hits
            </dt>
            <dd>{cache.hits}</dd>
          </div>
          <div>
            <dt>
              <span className="swatch tone-muted" aria-hidden="true" /> Misses
            </dt>
            <dd>{cache.misses}</dd>
          </div>
          <div>
            <dt>Lookups</dt>
            <dd>{cache.hits + cache.misses}</dd>
          </div>
        </dl>
      </div>
    </section>
  );
}

export function DurationPanel({ duration }: { duration: AdminMetrics['jobDuration'] }) {
  const buckets = histogramBuckets(duration.buckets, duration.count);
  return (
    <section className="card admin-panel wide" aria-labelledby="admin-durations">
      <h2 id="admin-durations">Job durations</h2>
      <p className="muted panel-note">{duration.count === 1 ? '1 finished job' : `${duration.count} finished jobs`} since start, submit to finish</p>
      <BarChart histogram bars={buckets.map((b) => ({ label: b.label, value: b.count }))} label={histogramSummary(buckets, duration.count)} axisLabel="seconds (bucket upper bound)" />
    </section>
  );
}

export function QueuePanel({ queue, depth, intervalSeconds }: { queue: AdminMetrics['queue']; depth: readonly number[]; intervalSeconds: number }) {
  const tones = { waiting: 'accent', delayed: 'warn', active: 'ok' } as const;
  return (
    <section className="card admin-panel" aria-labelledby="admin-queue">
      <h2 id="admin-queue">Queue depth</h2>
      <p className="muted panel-note">Now</p>
      <p className="queue-total">
        <strong>{queueDepth(queue)}</strong> <span className="muted">jobs in the queue</span>
      </p>
      <BarChart height={160} showZero bars={queueBars(queue).map((b) => ({ ...b, tone: tones[b.label as keyof typeof tones] }))} label={queueSummary(queue)} />
      <div className="sparkline-row">
        <span className="muted">
          Depth, last {depth.length} {depth.length === 1 ? 'sample' : 'samples'}
          <br />
          peak {depth.length > 0 ? Math.max(...depth) : 0}
        </span>
        <Sparkline values={depth} label={depthTrendSummary(depth, intervalSeconds)} />
      </div>
    </section>
  );
}

export function BackendsPanel({ backends }: { backends: readonly BackendMetrics[] }) {
  return (
    <section className="card admin-panel wide" aria-labelledby="admin-backends">
      <h2 id="admin-backends">Backend health</h2>
      <p className="muted panel-note">Health now; jobs finished since start</p>
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

const HEALTH_TEXT = { healthy: 'Healthy', degraded: 'Degraded', unhealthy: 'Unhealthy', unknown: 'Unknown' } as const;

function BackendTile({ backend }: { backend: BackendMetrics }) {
  const state = healthState(backend);
  const error = backend.lastError;
  return (
    <li className={`backend-tile health-${state}`} data-testid="backend-tile">
      <div className="backend-head">
        <span className={`health-dot health-${state}`} aria-hidden="true" />
        <span className="backend-name">
          <strong>{backend.label || backend.name}</strong> <span className="badge">{backend.kind}</span>
        </span>
        <span className={`health-text health-${state}`}>{HEALTH_TEXT[state]}</span>
      </div>
      {(backend.instances || backend.inFlight !== undefined) && (
        <p className="backend-facts muted">
          {backend.instances && <InstancePips up={backend.instances.up} total={backend.instances.total} />}
          {backend.inFlight !== undefined && <span>{backend.inFlight} in flight</span>}
        </p>
      )}
      {error && (
        <p className="backend-note">
          Last error{error.instance ? ` (${error.instance})` : ''}: {error.message} <time dateTime={error.at}>{new Date(error.at).toLocaleTimeString()}</time>
        </p>
      )}
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

/** One dot per instance, filled when it is up (the number is in the text next to it). */
function InstancePips({ up, total }: { up: number; total: number }) {
  const shown = Math.min(total, 12);
  return (
    <span className="instances">
      <span className="pips" aria-hidden="true">
        {Array.from({ length: shown }, (_, i) => (
          <span key={i} className={i < up ? 'pip up' : 'pip'} />
        ))}
      </span>
      {up} of {total} {total === 1 ? 'instance' : 'instances'} up
    </span>
  );
}
