/**
 * The one catalog of error codes Atelier returns. Each code is stable: clients branch on it.
 * `docs/errors.md` is kept in step with this table by a test.
 */
export const errorCatalog = {
  invalid_parameter: { status: 422, message: 'A parameter is invalid' },
  unknown_field: { status: 422, message: 'The request contains a field Atelier does not know' },
  invalid_body: { status: 400, message: 'The request body is not valid JSON' },
  body_too_large: { status: 413, message: 'The request body is larger than the limit' },
  unsupported_media_type: { status: 415, message: 'The request body has an unsupported content type' },
  unknown_model: { status: 422, message: 'The model is not in the registry' },
  capability_unsupported: { status: 422, message: 'The model does not support this request' },
  idempotency_key_reused: { status: 409, message: 'The Idempotency-Key was already used with a different request' },
  unauthorized: { status: 401, message: 'A valid API token is required' },
  forbidden: { status: 403, message: 'This token may not do that' },
  not_found: { status: 404, message: 'Not found' },
  job_not_cancelable: { status: 409, message: 'The job has already finished' },
  upload_consumed: { status: 409, message: 'The upload URL was already used' },
  upload_not_ready: { status: 409, message: 'The upload has not received its bytes yet' },
  signature_invalid: { status: 403, message: 'The signed URL is invalid or has expired' },
  rate_limited: { status: 429, message: 'Too many requests' },
  prompt_refused: { status: 422, message: "The prompt was refused by this server's content policy" },
  moderation_unavailable: { status: 503, message: 'The moderation check is unavailable' },
  config_invalid: { status: 500, message: 'The configuration is invalid' },
  backend_failed: { status: 502, message: 'The backend failed to generate' },
  backend_timeout: { status: 504, message: 'The backend did not answer in time' },
  backend_rejected: { status: 422, message: 'The backend refused the request as invalid' },
  lease_expired: { status: 500, message: 'The worker running the job stopped responding' },
  lease_lost: { status: 409, message: 'The lease is no longer held: the job expired, was canceled, finished or went to another worker' },
  job_failed: { status: 500, message: 'The job failed' },
  job_canceled: { status: 409, message: 'The job was canceled' },
  invalid_image: { status: 422, message: 'The image is not a valid PNG, JPEG or WEBP file' },
  image_too_large: { status: 413, message: 'The image file is larger than the limit' },
  image_too_many_pixels: { status: 422, message: 'The image has more pixels than the limit' },
  url_refused: { status: 422, message: 'The URL is not allowed (scheme, private address, or too many redirects)' },
  url_fetch_failed: { status: 422, message: 'The URL could not be fetched' },
  url_too_large: { status: 413, message: 'The resource at the URL is larger than the limit' },
  url_timeout: { status: 504, message: 'The URL did not answer in time' },
  storage_failed: { status: 500, message: 'Storing the result failed' },
  internal_error: { status: 500, message: 'Internal server error' },
  not_ready: { status: 503, message: 'The server is not ready' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorCatalog;
