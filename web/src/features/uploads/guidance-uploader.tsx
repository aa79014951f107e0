import { useId, type ChangeEvent } from 'react';
import type { ImageSlot } from '../generate/image-slot';
import { IMAGE_TYPES, SlotStatus } from './image-input';

/** Several guidance images, each uploaded on its own with a progress bar. */
export function GuidanceUploader({
  slots,
  max,
  onPick,
  onRemove,
}: {
  slots: readonly ImageSlot[];
  /** Most images the model takes. */
  max: number;
  onPick: (files: File[]) => void;
  onRemove: (key: string) => void;
}) {
  const id = useId();
  const room = Math.max(0, max - slots.length);
  const change = (event: ChangeEvent<HTMLInputElement>) => {
    const files = [...(event.target.files ?? [])];
    if (files.length > 0) onPick(files.slice(0, room));
    event.target.value = '';
  };
  return (
    <div className="field guidance">
      <label htmlFor={id}>Guidance images</label>
      <input id={id} type="file" accept={IMAGE_TYPES} multiple onChange={change} disabled={room === 0} aria-describedby={`${id}-hint`} />
      <span id={`${id}-hint`} className="hint">
        Up to {max} image{max === 1 ? '' : 's'} the model conditions on.
      </span>
      {slots.length > 0 && (
        <ul className="guidance-list">
          {slots.map((slot, i) => (
            <li key={slot.key} className="slot">
              <span className="slot-preview">{slot.previewUrl ? <img src={slot.previewUrl} alt={`Guidance image ${i + 1}`} /> : null}</span>
              <span className="slot-info">
                <span className="slot-name" title={slot.name}>
                  {slot.name}
                </span>
                <SlotStatus slot={slot} />
                <button type="button" className="ghost small" onClick={() => onRemove(slot.key)} aria-label={`Remove ${slot.name}`}>
                  Remove
                </button>
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
