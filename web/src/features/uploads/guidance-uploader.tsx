import { useId } from 'react';
import type { ImageSlot } from '../generate/image-slot';
import { DropZone } from './drop-zone';
import { useImageLabel } from './image-label';
import { SlotPreview, SlotStatus } from './image-input';

export { IMAGE_TYPES } from './image-file';

/** Several guidance images, each uploaded on its own with a progress bar; dropped, pasted or chosen. */
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
  return (
    <div className="field guidance">
      <label htmlFor={id}>Guidance images</label>
      <span className="hint">
        Up to {max} image{max === 1 ? '' : 's'} the model conditions on.
      </span>
      <DropZone inputId={id} hintId={`${id}-hint`} multiple room={room} empty={slots.length === 0} disabled={room === 0} chooseText="Choose images" onFiles={onPick}>
        {slots.length > 0 && (
          <ul className="guidance-list">
            {slots.map((slot, i) => (
              <GuidanceSlot key={slot.key} slot={slot} index={i} onRemove={onRemove} />
            ))}
          </ul>
        )}
      </DropZone>
    </div>
  );
}

function GuidanceSlot({ slot, index, onRemove }: { slot: ImageSlot; index: number; onRemove: (key: string) => void }) {
  const name = useImageLabel(slot);
  return (
    <li className="slot">
      <SlotPreview slot={slot} alt={`Guidance image ${index + 1}`} />
      <span className="slot-info">
        <span className="slot-name" title={name}>
          {name}
        </span>
        <SlotStatus slot={slot} />
        <button type="button" className="ghost small" onClick={() => onRemove(slot.key)} aria-label={`Remove ${name}`}>
          Remove
        </button>
      </span>
    </li>
  );
}
