import { useEffect, useRef, useState } from 'react';
import { Link, navigate } from '../../router';
import { setPendingDraft } from '../generate/draft';
import { copyText } from './clipboard';
import { ConfirmDialog } from './confirm-dialog';
import { deleteAsset, saveToLibrary, type AssetDetail, type RunView } from './detail-api';
import { referenceDraft, reuseDraft } from './drafts';
import { displayVariant, downloadName, parametersText } from './parameters';

type SaveState = { readonly status: 'idle' | 'saving' } | { readonly status: 'saved'; readonly id: string } | { readonly status: 'error'; readonly message: string };

/** Reuse, use as reference, download, save to library and delete for one asset. */
export function AssetActions({ detail, run }: { detail: AssetDetail; run: RunView | undefined }) {
  const savedAs = detail.collection === 'library' ? detail.id : detail.libraryId;
  const [save, setSave] = useState<SaveState>(savedAs ? { status: 'saved', id: savedAs } : { status: 'idle' });
  const [confirming, setConfirming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<string | undefined>();

  const reuse = () => {
    setPendingDraft(reuseDraft(detail, run));
    navigate('/');
  };

  const useAsReference = () => {
    setPendingDraft(referenceDraft(detail, displayVariant(detail, run).url));
    navigate('/');
  };

  const saveIt = async () => {
    setSave({ status: 'saving' });
    try {
      const saved = await saveToLibrary(detail.id);
      setSave({ status: 'saved', id: saved.id });
    } catch (error) {
      setSave({ status: 'error', message: (error as Error).message });
    }
  };

  const remove = async () => {
    setDeleting(true);
    setDeleteError(undefined);
    try {
      await deleteAsset(detail.id);
      setConfirming(false);
      navigate('/history');
    } catch (error) {
      setDeleting(false);
      setDeleteError((error as Error).message);
    }
  };

  const isVideo = detail.type === 'video';
  return (
    <div className="asset-actions">
      <div className="action-row">
        <button type="button" className="primary" onClick={reuse}>
          Reuse settings
        </button>
        {!isVideo && (
          <button type="button" onClick={useAsReference}>
            Use as reference
          </button>
        )}
      </div>
      <div className="action-row">
        <a className="button-link" href={detail.imageUrl} download={downloadName(detail)}>
          Download
        </a>
        {save.status === 'saved' ? (
          <p className="saved-note" role="status">
            <span className="saved-text">Saved to library</span>
            {save.id !== detail.id && (
              <>
                <span aria-hidden="true"> · </span>
                <Link href={`/images/${encodeURIComponent(save.id)}`}>Open the library copy</Link>
              </>
            )}
          </p>
        ) : (
          <button type="button" onClick={() => void saveIt()} disabled={save.status === 'saving'} aria-busy={save.status === 'saving'}>
            Save to library
          </button>
        )}
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Delete
        </button>
      </div>
      {save.status === 'error' && (
        <p role="alert" className="error">
          Could not save: {save.message}
        </p>
      )}
      {confirming && (
        <ConfirmDialog
          title={`Delete this ${isVideo ? 'video' : 'image'}?`}
          confirmLabel="Delete permanently"
          cancelLabel="Keep"
          busy={deleting}
          onConfirm={() => void remove()}
          onCancel={() => {
            setConfirming(false);
            setDeleteError(undefined);
          }}
        >
          <p>The file and its thumbnail are removed for good{detail.collection === 'workspace' ? '; a library copy, if you saved one, stays' : ''}.</p>
          {deleteError && (
            <p role="alert" className="error">
              Could not delete: {deleteError}
            </p>
          )}
        </ConfirmDialog>
      )}
    </div>
  );
}

/** "Copy parameters": the infotext to the clipboard, confirmed with "Copied" for a moment. */
export function CopyParameters({ detail, run }: { detail: AssetDetail; run: RunView | undefined }) {
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle');
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const copy = async () => {
    const ok = await copyText(parametersText(detail, run));
    setCopied(ok ? 'copied' : 'failed');
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setCopied('idle'), 2500);
  };
  return (
    <span className="copy-parameters">
      <button type="button" onClick={() => void copy()}>
        Copy parameters
      </button>
      <span className={copied === 'failed' ? 'action-status error' : 'action-status'} role="status">
        {copied === 'copied' ? 'Copied' : copied === 'failed' ? 'Could not copy' : ''}
      </span>
    </span>
  );
}
