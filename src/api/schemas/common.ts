import { Type } from 'typebox';
import { MODES } from '../../jobs/job-spec.js';

/** The body of every error response (SPEC §2): a stable code, a message, the field at fault. */
export const ErrorBody = Type.Object(
  {
    code: Type.String(),
    message: Type.String(),
    field: Type.Optional(Type.String()),
  },
  { additionalProperties: true, $id: 'ErrorBody' },
);

export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  413: ErrorBody,
  415: ErrorBody,
  422: ErrorBody,
  429: ErrorBody,
  500: ErrorBody,
  503: ErrorBody,
} as const;

export const RunIdParams = Type.Object({ runId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

/**
 * The filters and paging of a run listing (GET /api/runs, GET /api/admin/jobs): one definition,
 * so both listings accept the same statuses, modes and cursors.
 */
export function runListQueryFields(noun: string, defaultLimit: number) {
  return {
    status: Type.Optional(Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('canceled')])),
    mode: Type.Optional(Type.Union(MODES.map((mode) => Type.Literal(mode)))),
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: `${noun} per page (default ${defaultLimit})` })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'The nextCursor of the previous page' })),
  };
}
