import { errorCatalog, type ErrorCode } from './catalog.js';

/**
 * The error every layer throws on purpose. It carries a stable `code` from the catalog, a
 * human message and, where one parameter is at fault, its `field`. The HTTP status comes
 * from the catalog so it can never drift per call site.
 *
 * @example throw new AtelierError('invalid_parameter', "Expected integer 1–150 for steps but received 'many'", { field: 'steps' })
 */
export class AtelierError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message?: string, opts: { field?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message ?? errorCatalog[code].message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AtelierError';
    this.code = code;
    this.field = opts.field;
    this.details = opts.details;
  }

  get status(): number {
    return errorCatalog[this.code].status;
  }

  toJSON(): { code: ErrorCode; message: string; field?: string } & Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.field === undefined ? {} : { field: this.field }),
      ...(this.details ?? {}),
    };
  }
}

const PREVIEW_CHARS = 40;

/**
 * Formats the value a user sent for an error message, the way sharp does: quoted, truncated.
 * Objects read as their JSON, but only the first characters are ever built, so a deeply
 * nested or huge value (`[[[…5000 deep…]]]`) costs a few dozen steps instead of overflowing
 * the stack the way `JSON.stringify` or `String` would.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > PREVIEW_CHARS ? `${value.slice(0, PREVIEW_CHARS)}…` : value}'`;
  if (value === undefined) return 'nothing';
  const text = jsonPreview(value, PREVIEW_CHARS + 1);
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text;
}

/** The first `limit` (or a few more) characters of `JSON.stringify(value)`, built lazily. */
function jsonPreview(value: unknown, limit: number): string {
  let out = '';
  const seen = new Set<object>();
  const scalar = (v: unknown): string | undefined => {
    if (v === null) return 'null';
    if (typeof v === 'string') return JSON.stringify(v.length > limit ? v.slice(0, limit) : v);
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
    if (typeof v === 'boolean') return String(v);
    if (typeof v === 'bigint') return String(v);
    return undefined;
  };
  const visit = (v: unknown): void => {
    if (out.length >= limit) return;
    const text = scalar(v);
    if (text !== undefined) {
      out += text;
      return;
    }
    if (typeof v !== 'object' || v === null) {
      out += 'null';
      return;
    }
    const json = (v as { toJSON?: unknown }).toJSON;
    if (typeof json === 'function') {
      const replaced = (json as () => unknown).call(v);
      if (replaced !== v) return visit(replaced);
    }
    if (seen.has(v)) {
      out += '[Circular]';
      return;
    }
    seen.add(v);
    if (Array.isArray(v)) {
      out += '[';
      for (let i = 0; i < v.length && out.length < limit; i++) {
        if (i > 0) out += ',';
        const item = v[i] as unknown;
        if (item === undefined || typeof item === 'function' || typeof item === 'symbol') out += 'null';
        else visit(item);
      }
      out += ']';
    } else {
      out += '{';
      let first = true;
      for (const key of Object.keys(v)) {
        if (out.length >= limit) break;
        const item = (v as Record<string, unknown>)[key];
        if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
        out += `${first ? '' : ','}${JSON.stringify(key)}:`;
        first = false;
        visit(item);
      }
      out += '}';
    }
    seen.delete(v);
  };
  visit(value);
  return out;
}
