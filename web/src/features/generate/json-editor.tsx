import { useEffect, useId, useRef, useState } from 'react';
import type { RequestBody } from './request-body';

/** What a piece of typed JSON is: a request body, or why it is not one. */
export function parseBody(text: string): { body: RequestBody } | { problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { problem: `Not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return { problem: 'Expected a JSON object (the request body)' };
  return { body: parsed as RequestBody };
}

/**
 * The request body as JSON, both ways: it shows the form's body, and hands every edit to
 * `onEdit` (which checks it and, when valid, applies it to the form). While the text is being
 * edited it is kept as typed, so an unfinished edit is not reformatted away; once the form
 * changes from elsewhere, or the editor is left with a valid body, it shows the form's body
 * again and `onSync` says the typed text is gone.
 */
export function JsonEditor({
  body,
  problems,
  onEdit,
  onSync,
}: {
  body: RequestBody;
  problems: readonly string[];
  onEdit: (text: string) => void;
  onSync: () => void;
}) {
  const id = useId();
  const formatted = JSON.stringify(body, null, 2);
  const [text, setText] = useState(formatted);
  const [editing, setEditing] = useState(false);
  const sync = useRef(onSync);
  sync.current = onSync;

  // The form changed (not through this editor): show its body.
  useEffect(() => {
    if (editing) return;
    setText(formatted);
    sync.current();
  }, [formatted, editing]);

  return (
    <div className="panel json-editor">
      <label htmlFor={id} className="panel-title">
        Advanced JSON
      </label>
      <textarea
        id={id}
        spellCheck={false}
        rows={Math.min(24, Math.max(8, text.split('\n').length + 1))}
        value={text}
        aria-invalid={problems.length > 0}
        aria-describedby={`${id}-hint`}
        onFocus={() => setEditing(true)}
        onBlur={() => {
          // Invalid text stays (with its alert) until fixed; valid text is shown formatted.
          if (problems.length === 0) setEditing(false);
        }}
        onChange={(event) => {
          setEditing(true);
          setText(event.target.value);
          onEdit(event.target.value);
        }}
      />
      <span id={`${id}-hint`} className="hint">
        The request body sent to the API, checked against its schema. Fields without a control above (priority, cache_mode, width…) can be added here.
      </span>
      {problems.length > 0 && (
        <div role="alert" className="error">
          <p>The request is not valid:</p>
          <ul>
            {problems.map((problem) => (
              <li key={problem}>{problem}</li>
            ))}
          </ul>
        </div>
      )}
      {editing && text !== formatted && (
        <button type="button" className="ghost small" onClick={() => setEditing(false)}>
          Discard JSON edits
        </button>
      )}
    </div>
  );
}
