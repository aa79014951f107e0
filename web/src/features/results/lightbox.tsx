import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type PointerEvent, type RefObject } from 'react';
import { Link } from '../../router';
import { PREVIEW_RENDERER_TEXT } from '../generate/models';
import type { AssetView, RunView } from '../live/run-state';
import { isFlagged, seedOf } from '../studio/run-requests';
import { sortedAssets } from './variant-grid';

/** Zoom steps, relative to the picture fitted to the viewer. */
export const ZOOMS = [1, 1.5, 2, 3, 4] as const;

function sizeOf(asset: AssetView, run: RunView): { width: number; height: number } {
  const { width, height } = asset.metadata as { width?: unknown; height?: unknown };
  return typeof width === 'number' && typeof height === 'number' ? { width, height } : { width: run.parameters.width, height: run.parameters.height };
}

const extension = (asset: AssetView) => (asset.contentType.split('/')[1] ?? 'png').replace('jpeg', 'jpg');

/** The size of an element, followed as it changes (the viewer's panes). */
function useBoxSize<T extends HTMLElement>(): [RefObject<T | null>, { width: number; height: number }] {
  const ref = useRef<T>(null);
  const [size, setSize] = useState({ width: 0, height: 0 });
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setSize({ width: el.clientWidth, height: el.clientHeight });
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return [ref, size];
}

/**
 * One picture of the viewer: the original, fitted to its pane and scaled by `zoom`; larger than
 * the pane, it scrolls and can be dragged. A double click toggles between fit and 2×.
 */
function Pane({ asset, run, index, zoom, label, onToggleZoom }: { asset: AssetView; run: RunView; index: number; zoom: number; label: string; onToggleZoom: () => void }) {
  const [ref, box] = useBoxSize<HTMLDivElement>();
  const drag = useRef<{ x: number; y: number } | undefined>(undefined);
  const onPointerDown = (event: PointerEvent<HTMLDivElement>) => {
    if (zoom === 1 || event.button !== 0) return;
    drag.current = { x: event.clientX, y: event.clientY };
    event.currentTarget.setPointerCapture?.(event.pointerId);
  };
  const onPointerMove = (event: PointerEvent<HTMLDivElement>) => {
    if (!drag.current) return;
    event.currentTarget.scrollBy(drag.current.x - event.clientX, drag.current.y - event.clientY);
    drag.current = { x: event.clientX, y: event.clientY };
  };
  const endDrag = () => {
    drag.current = undefined;
  };
  const natural = sizeOf(asset, run);
  const fit = box.width > 0 && box.height > 0 ? Math.min(box.width / natural.width, box.height / natural.height) : 0;
  const style = fit > 0 ? { width: `${Math.round(natural.width * fit * zoom)}px`, height: `${Math.round(natural.height * fit * zoom)}px` } : { visibility: 'hidden' as const };
  return (
    <figure className="lb-pane" aria-label={label}>
      <div
        ref={ref}
        className={zoom > 1 ? 'lb-stage zoomed' : 'lb-stage'}
        data-testid="lightbox-stage"
        tabIndex={zoom > 1 ? 0 : undefined}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={endDrag}
        onPointerCancel={endDrag}
        onDoubleClick={asset.type === 'image' ? onToggleZoom : undefined}
      >
        {asset.type === 'video' ? (
          <video src={asset.url} poster={asset.thumbnailUrl ?? undefined} controls style={style} aria-label={`Result ${index + 1}`} />
        ) : (
          <img src={asset.url} alt={`Result ${index + 1}, full size`} style={style} draggable={false} />
        )}
      </div>
      <figcaption className="lb-caption">
        Result {index + 1} · seed {seedOf(asset, run)}
        {isFlagged(asset) && <span className="badge badge-flagged">Flagged</span>}
      </figcaption>
    </figure>
  );
}

/**
 * The viewer: one result at a time, large, in a modal dialog. Arrow keys (and the buttons)
 * step through the run's results, + / − / 0 or a double click zoom (the picture scrolls, or is
 * dragged, when larger than the viewer), Compare shows a second result side by side, Download saves the original, Escape
 * closes and focus returns where it was.
 */
export function Lightbox({ run, index, onIndex, onClose, preview }: { run: RunView; index: number; onIndex: (index: number) => void; onClose: () => void; preview?: boolean }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const assets = sortedAssets(run);
  const [zoomStep, setZoomStep] = useState(0);
  const [compare, setCompare] = useState<number | undefined>(undefined);
  const asset = assets[Math.min(index, assets.length - 1)];
  const close = useRef(onClose);
  close.current = onClose;

  // Keys are heard on the window: the focused picture is replaced when stepping, and focus
  // would otherwise fall back to <body>, out of the dialog's reach.
  const keys = useRef<(event: KeyboardEvent) => void>(() => undefined);
  useEffect(() => {
    const listener = (event: globalThis.KeyboardEvent) => keys.current(event as unknown as KeyboardEvent);
    window.addEventListener('keydown', listener);
    return () => window.removeEventListener('keydown', listener);
  }, []);

  useEffect(() => {
    const el = dialog.current;
    if (!el) return;
    if (!el.open) el.showModal?.();
    const closed = () => close.current();
    el.addEventListener('close', closed);
    return () => {
      el.removeEventListener('close', closed);
      if (el.open) el.close();
    };
  }, []);

  if (!asset) return null;
  const last = assets.length - 1;
  const go = (next: number) => {
    if (next < 0 || next > last) return;
    onIndex(next);
    if (compare === next) setCompare(index);
  };
  const zoomBy = (delta: number) => setZoomStep((step) => Math.max(0, Math.min(ZOOMS.length - 1, step + delta)));
  const toggleZoom = () => setZoomStep((step) => (step === 0 ? ZOOMS.indexOf(2) : 0));
  const onKeyDown = (event: KeyboardEvent) => {
    const target = event.target as HTMLElement;
    if (target.tagName === 'SELECT' || target.tagName === 'VIDEO' || event.altKey || event.ctrlKey || event.metaKey) return;
    const action = {
      ArrowRight: () => go(index + 1),
      ArrowLeft: () => go(index - 1),
      '+': () => zoomBy(1),
      '=': () => zoomBy(1),
      '-': () => zoomBy(-1),
      '0': () => setZoomStep(0),
    }[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  };
  keys.current = onKeyDown;
  const zoom = ZOOMS[zoomStep]!;
  const other = compare !== undefined ? assets[compare] : undefined;
  return (
    <dialog ref={dialog} className="lightbox" aria-label="Viewer" data-testid="lightbox">
      <div className="lb-bar">
        <span className="lb-title">
          {index + 1} / {assets.length}
          {preview && <span className="badge badge-preview">{PREVIEW_RENDERER_TEXT}</span>}
        </span>
        <span className="lb-tools">
          <button type="button" className="ghost small" onClick={() => go(index - 1)} disabled={index === 0} aria-label="Previous result">
            ←
          </button>
          <button type="button" className="ghost small" onClick={() => go(index + 1)} disabled={index === last} aria-label="Next result">
            →
          </button>
          {asset.type === 'image' && (
            <>
              <button type="button" className="ghost small" onClick={() => zoomBy(-1)} disabled={zoomStep === 0} aria-label="Zoom out">
                −
              </button>
              <output className="lb-zoom" aria-label="Zoom" data-testid="lightbox-zoom">
                {zoom === 1 ? 'Fit' : `${zoom}×`}
              </output>
              <button type="button" className="ghost small" onClick={() => zoomBy(1)} disabled={zoomStep === ZOOMS.length - 1} aria-label="Zoom in">
                +
              </button>
            </>
          )}
          {assets.length > 1 && (
            <label className="lb-compare">
              <span>Compare with</span>
              <select value={compare ?? ''} onChange={(event) => setCompare(event.target.value === '' ? undefined : Number(event.target.value))}>
                <option value="">—</option>
                {assets.map((a, i) =>
                  i === index ? null : (
                    <option key={a.id} value={i}>
                      Result {i + 1} · seed {seedOf(a, run)}
                    </option>
                  ),
                )}
              </select>
            </label>
          )}
          <a className="button ghost small" href={asset.url} download={`atelier-${run.runId.slice(0, 8)}-${index + 1}.${extension(asset)}`}>
            Download
          </a>
          <Link className="button ghost small" href={`/images/${encodeURIComponent(asset.id)}`}>
            Details
          </Link>
          <button type="button" className="small" onClick={() => dialog.current?.close()} autoFocus>
            Close
          </button>
        </span>
      </div>
      <div className={other ? 'lb-panes compare' : 'lb-panes'}>
        <Pane key={`a-${asset.id}`} asset={asset} run={run} index={index} zoom={zoom} label="Shown" onToggleZoom={toggleZoom} />
        {other && compare !== undefined && <Pane key={`b-${other.id}`} asset={other} run={run} index={compare} zoom={zoom} label="Compared" onToggleZoom={toggleZoom} />}
      </div>
    </dialog>
  );
}
