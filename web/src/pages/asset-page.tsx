import { useEffect, useState } from 'react';
import { Link, navigate } from '../router';
import { AssetActions, CopyParameters } from '../features/detail/asset-actions';
import { AssetMedia } from '../features/detail/asset-media';
import { fetchAsset, type DetailResult } from '../features/detail/detail-api';
import { ParameterList } from '../features/detail/parameter-list';
import { SafetyPanel } from '../features/detail/safety-panel';
import { historyReturnPath, neighbours } from '../features/history/return-path';
import '../styles/detail.css';

type State = { readonly status: 'loading' } | DetailResult;

/** One image or video: the picture, every parameter, and what can be done with it. */
export function AssetPage({ id }: { id: string }) {
  const [state, setState] = useState<State>({ status: 'loading' });

  useEffect(() => {
    const controller = new AbortController();
    setState({ status: 'loading' });
    fetchAsset(id, controller.signal)
      .then(setState)
      .catch((error: Error) => {
        if (error.name !== 'AbortError') setState({ status: 'error', message: error.message });
      });
    return () => controller.abort();
  }, [id]);

  const { newer, older } = neighbours(id);

  // Escape returns to the gallery and the arrow keys step through it, unless the key belongs to
  // something else (a dialog, a field, a video's own controls, full screen).
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || document.fullscreenElement || event.altKey || event.ctrlKey || event.metaKey) return;
      const target = event.target as HTMLElement | null;
      if (target?.closest('[role="dialog"], input, textarea, select, video')) return;
      const step = event.key === 'ArrowLeft' ? newer : event.key === 'ArrowRight' ? older : undefined;
      const to = event.key === 'Escape' ? historyReturnPath() : step && `/images/${encodeURIComponent(step)}`;
      if (!to) return;
      event.preventDefault();
      navigate(to);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [newer, older]);

  const back = (
    <nav className="asset-nav" aria-label="Gallery">
      <Link href={historyReturnPath()} className="back-link">
        ← Back to History
      </Link>
      {(newer || older) && (
        <span className="step-links">
          {newer && (
            <Link href={`/images/${encodeURIComponent(newer)}`} aria-keyshortcuts="ArrowLeft">
              ‹ Newer
            </Link>
          )}
          {older && (
            <Link href={`/images/${encodeURIComponent(older)}`} aria-keyshortcuts="ArrowRight">
              Older ›
            </Link>
          )}
        </span>
      )}
    </nav>
  );

  if (state.status === 'loading') {
    return (
      <section className="asset-page" aria-busy="true">
        {back}
        <p className="loading">Loading…</p>
      </section>
    );
  }
  if (state.status === 'not-found') {
    return (
      <section className="asset-page">
        {back}
        <div className="card not-found" role="alert">
          <h1>Image not found</h1>
          <p>There is no image or video with this id: it was deleted, expired from the workspace, or belongs to someone else.</p>
        </div>
      </section>
    );
  }
  if (state.status === 'error') {
    return (
      <section className="asset-page">
        {back}
        <p role="alert" className="error">
          Could not load this item: {state.message}
        </p>
      </section>
    );
  }
  const { detail, run } = state;
  return (
    <section className="asset-page" data-testid="asset-detail">
      {back}
      <div className="asset-layout">
        <div className="asset-stage">
          <AssetMedia detail={detail} run={run} />
        </div>
        <aside className="asset-side">
          <h1 className="asset-title">{detail.type === 'video' ? 'Video' : 'Image'}</h1>
          <AssetActions key={detail.id} detail={detail} run={run} />
          <div className="parameters-head">
            <h2>Parameters</h2>
            <CopyParameters detail={detail} run={run} />
          </div>
          <ParameterList detail={detail} run={run} />
          <SafetyPanel detail={detail} />
        </aside>
      </div>
    </section>
  );
}
