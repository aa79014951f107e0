import { useId, useState } from 'react';
import type { ImageSlot } from '../generate/image-slot';
import { DropZone } from './drop-zone';
import { readableName } from './image-file';
import { useImageLabel } from './image-label';

export { IMAGE_TYPES } from './image-file';

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
        {readableName(slot.name)}: {slot.error}
      </span>
    );
  }
  return null;
}

/**
 * The picture of a slot in its fixed box. A refused upload shows no picture (its bytes may not
 * be an image at all), and a picture that fails to load says so in words instead of the
 * browser's broken-image icon.
 */
export function SlotPreview({ slot, alt }: { slot: ImageSlot; alt: string }) {
  const [broken, setBroken] = useState<string>();
  if (slot.status === 'error') {
    return (
      <span className="slot-preview refused" aria-hidden="true">
        <span>Not used</span>
      </span>
    );
  }
  if (!slot.previewUrl || broken === slot.previewUrl) {
    return (
      <span className="slot-preview">
        <span className="muted">{slot.previewUrl ? 'No preview' : readableName(slot.name)}</span>
      </span>
    );
  }
  return (
    <span className="slot-preview">
      <img src={slot.previewUrl} alt={alt} onError={() => setBroken(slot.previewUrl)} />
    </span>
  );
}

/**
 * One input image: a drop zone (drop, paste or choose a file) labelled by `label`, the
 * picked image's preview in a fixed-ratio box with a readable name (the file's, or for an image
 * from History "Image from history · <prompt>"), its upload progress, and a remove button.
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
  const name = useImageLabel(slot);
  return (
    <div className="field image-input">
      <label htmlFor={id}>{label}</label>
      <DropZone inputId={id} hintId={`${id}-hint`} empty={!slot} chooseText={slot ? 'Replace' : 'Choose image'} onFiles={(files) => onPick(files[0]!)}>
        {slot && (
          <div className="slot">
            <SlotPreview slot={slot} alt={previewAlt} />
            <span className="slot-info">
              <span className="slot-name" title={name}>
                {name}
              </span>
              {slot.width && slot.height ? <span className="muted">{`${slot.width}×${slot.height}`}</span> : null}
              <SlotStatus slot={slot} />
              <button type="button" className="ghost small" onClick={onClear} aria-label={`Remove ${name}`}>
                Remove
              </button>
            </span>
          </div>
        )}
      </DropZone>
    </div>
  );
}
