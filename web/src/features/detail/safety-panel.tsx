import { useState } from 'react';
import { authHeaders } from '../../api/client';
import type { AssetDetail } from './detail-api';
import { percent, SAFETY_CLASSES, safetyOf } from './safety';

/**
 * The output safety scan's verdict and the five class scores, each with a bar. A blurred item's
 * signed links are blurred copies; its owner opens the original through the authenticated file
 * route, fetched with their token (a plain link could not carry it).
 */
export function SafetyPanel({ detail }: { detail: AssetDetail }) {
  const safety = safetyOf(detail);
  const [opening, setOpening] = useState<'idle' | 'loading' | 'failed'>('idle');
  if (!safety) return null;

  async function openOriginal() {
    setOpening('loading');
    try {
      const response = await fetch(`/api/images/${encodeURIComponent(detail.id)}/file`, { headers: authHeaders() });
      if (!response.ok) throw new Error(String(response.status));
      window.open(URL.createObjectURL(await response.blob()), '_blank', 'noopener');
      setOpening('idle');
    } catch {
      setOpening('failed');
    }
  }

  const verdict = safety.flagged ? (safety.blurred ? 'Flagged — shared copies are blurred' : 'Flagged') : 'Not flagged';
  return (
    <section className="safety-panel" aria-labelledby="safety-heading" data-testid="safety">
      <h2 id="safety-heading">Safety scan</h2>
      <p className={safety.flagged ? 'safety-verdict flagged' : 'safety-verdict'}>
        <strong>{verdict}</strong> <span className="muted">by {safety.model}</span>
      </p>
      <dl className="safety-scores">
        {SAFETY_CLASSES.map((name) => (
          <div key={name} className="safety-score">
            <dt>{name[0]!.toUpperCase() + name.slice(1)}</dt>
            <dd>
              <meter min={0} max={1} value={safety.scores[name]} aria-label={`${name} ${percent(safety.scores[name])}`} />
              <span>{percent(safety.scores[name])}</span>
            </dd>
          </div>
        ))}
      </dl>
      {safety.blurred ? (
        <p className="safety-original">
          The original is kept for you only.{' '}
          <button type="button" onClick={() => void openOriginal()} disabled={opening === 'loading'}>
            {opening === 'loading' ? 'Opening…' : 'Open the original'}
          </button>
          {opening === 'failed' ? (
            <span role="alert" className="error">
              {' '}
              The original could not be opened.
            </span>
          ) : null}
        </p>
      ) : null}
    </section>
  );
}
