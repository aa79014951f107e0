import { useEffect, useId, useState } from 'react';
import type { RequestBody } from './request-body';

/**
 * The request body as JSON, both ways: it shows the form's body; a valid edit flows back
 * into the form. While the text is being edited (focused) it is kept as typed, so an
 * unfinished edit is not reformatted away; `problems` come from the parse and the schema check.
 */
export function JsonEditor({
  body,
  problems,
  onBody,
  onText,
}: {
  body: RequestBody;
  problems: readonly string[];
  /** A parsed JSON object typed by the user. */
  onBody: (body: RequestBody) => void;
  /** The parse problem of the current text, or undefined when it parses. */
  onText: (parseProblem: string | undefined) => void;
}) {
  const id = useId();
  const formatted = JSON.stringify(body, null, 2);
  const [text, setText] = useState(formatted);
  const [editing, setEditing] = useState(false);

  // The form changed (not through this editor): show its body.
  useEffect(() => {
    if (!editing) setText(formatted);
  }, [formatted, editing]);

  const change = (value: string) => {
    setText(value);
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch (error) {
      onText(`Not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      onText('Expected a JSON object (the request body)');
      return;
    }
    onText(undefined);
    onBody(parsed as RequestBody);
  };

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
          setEditing(false);
          if (problems.length === 0) setText(formatted);
        }}
        onChange={(event) => change(event.target.value)}
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
    </div>
  );
}
