import { useId, type ChangeEvent } from 'react';
import type { ImageSlot } from '../generate/image-slot';

export const IMAGE_TYPES = 'image/png,image/jpeg,image/webp';

/** A slot's upload progress (while uploading) or its error. */
export function SlotStatus({ slot }: { slot: ImageSlot }) {
  if (slot.status === 'uploading') {
    const percent = Math.round(slot.progress * 100);
    return (
      <span className="slot-status">
        <span role="progressbar" aria-label={`Uploading ${slot.name}`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent} className="progress small">
          <span className="progress-fill" style={{ width: `${percent}%` }} />
        </span>
        <span className="muted">{percent}%</span>
      </span>
    );
  }
  if (slot.status === 'error') {
    return (
      <span role="alert" className="error">
        {slot.name}: {slot.error}
      </span>
    );
  }
  return null;
}

/**
 * One input image: a labelled file input, the picked image's preview in a fixed-ratio box,
 * its upload progress, and a remove button.
 */
export function ImageInput({
  label,
  previewAlt,
  slot,
  onPick,
  onClear,
}: {
  label: string;
  previewAlt: string;
  slot: ImageSlot | undefined;
  onPick: (file: File) => void;
  onClear: () => void;
}) {
  const id = useId();
  const change = (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    if (file) onPick(file);
    event.target.value = ''; // picking the same file again still fires
  };
  return (
    <div className="field image-input">
      <label htmlFor={id}>{label}</label>
      <input id={id} type="file" accept={IMAGE_TYPES} onChange={change} />
      {slot && (
        <div className="slot">
          <span className="slot-preview">
            {slot.previewUrl ? <img src={slot.previewUrl} alt={previewAlt} /> : <span className="muted">{slot.name}</span>}
          </span>
          <span className="slot-info">
            <span className="slot-name" title={slot.name}>
              {slot.name}
            </span>
            {slot.width && slot.height ? <span className="muted">{`${slot.width}×${slot.height}`}</span> : null}
            <SlotStatus slot={slot} />
            <button type="button" className="ghost small" onClick={onClear} aria-label={`Remove ${slot.name}`}>
              Remove
            </button>
          </span>
        </div>
      )}
    </div>
  );
}
