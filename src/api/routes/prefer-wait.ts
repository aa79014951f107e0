import { AtelierError, describeValue } from '../../errors/atelier-error.js';

/** The longest `Prefer: wait` a generation request may ask for, and what a bare `wait` means. */
export const MAX_WAIT_SECONDS = 60;

/**
 * The `wait` preference of a `Prefer` header (RFC 7240 §4.3) in seconds: `wait=N` (N 1–60),
 * or 60 for a bare `wait`; undefined when the header asks for no wait. Other preferences
 * (`return=minimal`, `respond-async`…) are ignored, as the RFC asks; of several `wait`s the
 * first counts. Several Prefer headers arrive joined by commas, which is the same list.
 *
 * @example preferredWait('respond-async, wait=10') // 10
 */
export function preferredWait(header: string | readonly string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  for (const preference of splitList(typeof header === 'string' ? header : header.join(','))) {
    // Parameters after ';' qualify the preference; `wait` defines none.
    const [head = ''] = splitOutsideQuotes(preference, ';');
    const equals = head.indexOf('=');
    const name = (equals < 0 ? head : head.slice(0, equals)).trim().toLowerCase();
    if (name !== 'wait') continue;
    if (equals < 0) return MAX_WAIT_SECONDS;
    const raw = unquote(head.slice(equals + 1).trim());
    const seconds = /^\d{1,6}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(seconds >= 1 && seconds <= MAX_WAIT_SECONDS)) {
      throw new AtelierError('invalid_parameter', `Expected integer 1–${MAX_WAIT_SECONDS} for Prefer wait but received ${describeValue(raw)}`, { field: 'Prefer' });
    }
    return seconds;
  }
  return undefined;
}

function splitList(value: string): string[] {
  return splitOutsideQuotes(value, ',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Splits on `separator` except inside a quoted-string (where `\` escapes the next character). */
function splitOutsideQuotes(value: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const char = value[i]!;
    if (quoted && char === '\\' && i + 1 < value.length) {
      current += char + value[++i];
      continue;
    }
    if (char === '"') quoted = !quoted;
    if (char === separator && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

function unquote(word: string): string {
  if (word.length >= 2 && word.startsWith('"') && word.endsWith('"')) return word.slice(1, -1).replace(/\\(.)/g, '$1');
  return word;
}
