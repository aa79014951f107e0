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

/** Formats the value a user sent for an error message, the way sharp does: quoted, truncated. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  if (value === undefined) return 'nothing';
  try {
    const text = JSON.stringify(value);
    return text.length > 40 ? `${text.slice(0, 40)}…` : text;
  } catch {
    return String(value);
  }
}
