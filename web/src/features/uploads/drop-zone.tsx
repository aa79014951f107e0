import { useEffect, useRef, useState, type ChangeEvent, type DragEvent, type ReactNode } from 'react';
import { IMAGE_TYPES, refusal } from './image-file';
import { registerPasteZone } from './paste-router';
import '../../styles/uploads.css';

/**
 * The area an input image arrives in: drop files on it, paste them (Ctrl+V anywhere: see
 * paste-router.ts), or choose them with the button-like label. The real file input is
 * visually hidden but keeps the field's label and the keyboard focus, so no "No file chosen"
 * shows. Files the server would refuse are explained here and never uploaded.
 */
export function DropZone({
  inputId,
  hintId,
  multiple = false,
  room = multiple ? Infinity : 1,
  empty,
  disabled = false,
  chooseText,
  onFiles,
  children,
}: {
  inputId: string;
  hintId: string;
  multiple?: boolean;
  /** How many more files fit (guidance images are capped by the model). */
  room?: number;
  /** Whether no image is in place yet (pastes prefer empty zones). */
  empty: boolean;
  disabled?: boolean;
  chooseText: string;
  onFiles: (files: File[]) => void;
  /** What the zone holds (previews), shown above the prompt to drop or choose. */
  children?: ReactNode;
}) {
  const zone = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  const [problems, setProblems] = useState<string[]>([]);

  // The latest props for the paste router, which registers once.
  const latest = useRef({ empty, disabled, room, multiple, onFiles });
  latest.current = { empty, disabled, room, multiple, onFiles };

  const take = (files: File[]) => {
    const { disabled: off, room: left, multiple: many, onFiles: deliver } = latest.current;
    if (files.length === 0) return;
    const found: string[] = [];
    if (off || left <= 0) {
      setProblems(['No more images fit here: remove one first.']);
      return;
    }
    const usable = files.filter((file) => {
      const reason = refusal(file);
      if (reason) found.push(reason);
      return !reason;
    });
    const limit = many ? left : 1;
    if (usable.length > limit) found.push(many ? `Only ${limit} more image${limit === 1 ? '' : 's'} fit: the rest were left out.` : 'One image goes here: the first one was taken.');
    setProblems(found);
    if (usable.length > 0) deliver(usable.slice(0, limit));
  };
  const takeRef = useRef(take);
  takeRef.current = take;

  useEffect(() => {
    const element = zone.current;
    if (!element) return;
    return registerPasteZone({ element, isEmpty: () => latest.current.empty && !latest.current.disabled, take: (files) => takeRef.current(files) });
  }, []);

  const change = (event: ChangeEvent<HTMLInputElement>) => {
    take([...(event.target.files ?? [])]);
    event.target.value = ''; // picking the same file again still fires
  };
  const over = (event: DragEvent) => {
    if (!event.dataTransfer.types.includes('Files')) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = disabled ? 'none' : 'copy';
    setDragging(true);
  };
  const drop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    take([...event.dataTransfer.files]);
  };

  return (
    <>
      <div
        ref={zone}
        className={`drop-zone${dragging ? ' dragging' : ''}${empty ? ' empty' : ''}${disabled ? ' disabled' : ''}`}
        data-testid="drop-zone"
        onDragEnter={over}
        onDragOver={over}
        onDragLeave={(event) => {
          if (!zone.current?.contains(event.relatedTarget as Node | null)) setDragging(false);
        }}
        onDrop={drop}
      >
        {children}
        <div className="drop-prompt">
          <input ref={input} id={inputId} className="visually-hidden" type="file" accept={IMAGE_TYPES} multiple={multiple} disabled={disabled} onChange={change} aria-describedby={hintId} />
          {/* Looks like a button and opens the chooser on click; keyboard users reach the input itself
              (focus ring drawn on the zone), whose name stays the field's label. */}
          <span className="choose-button" aria-hidden="true" onClick={() => !disabled && input.current?.click()}>
            {chooseText}
          </span>
          <span id={hintId} className="hint drop-hint">
            {disabled ? 'No more images fit.' : empty ? `or drop ${multiple ? 'images' : 'an image'} here, or paste (Ctrl+V). PNG, JPEG or WebP.` : `or drop or paste (Ctrl+V) ${multiple ? 'more' : 'another'}.`}
          </span>
        </div>
      </div>
      {problems.length > 0 && (
        <ul className="drop-problems" role="alert">
          {problems.map((problem) => (
            <li key={problem}>{problem}</li>
          ))}
        </ul>
      )}
    </>
  );
}
