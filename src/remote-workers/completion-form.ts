import type { Readable } from 'node:stream';
import { AtelierError } from '../errors/atelier-error.js';
import type { FilePart } from './streamed-outputs.js';

/** The subset of a @fastify/multipart part this reads: a text field, or a file and its stream. */
export type MultipartPart =
  | { readonly type: 'field'; readonly fieldname: string; readonly value: unknown; readonly valueTruncated?: boolean }
  | { readonly type: 'file'; readonly fieldname: string; readonly file: Readable };

/** A multipart completion, read as far as its `result` part: the callback JSON (not yet validated), then the file parts. */
export interface CompletionForm {
  readonly result: unknown;
  readonly files: AsyncIterable<FilePart>;
}

/** Errors of the multipart parser by code, as the catalog's. */
const PARSER_CODES: Record<string, { code: AtelierError['code']; message: string }> = {
  FST_PARTS_LIMIT: { code: 'body_too_large', message: 'The multipart body has more parts than a completion may have' },
  FST_FILES_LIMIT: { code: 'body_too_large', message: 'The multipart body has more files than a completion may have' },
  FST_FIELDS_LIMIT: { code: 'body_too_large', message: 'The multipart body has more text fields than a completion may have (only result)' },
  FST_REQ_FILE_TOO_LARGE: { code: 'body_too_large', message: 'A file part is larger than the limit' },
  FST_INVALID_JSON_FIELD_ERROR: { code: 'invalid_body', message: 'The result field is labelled application/json but is not valid JSON' },
  FST_PROTO_VIOLATION: { code: 'invalid_parameter', message: 'A part name is not allowed' },
  FST_INVALID_MULTIPART_CONTENT_TYPE: { code: 'unsupported_media_type', message: 'Expected multipart/form-data' },
};

function parserError(error: unknown): AtelierError {
  if (error instanceof AtelierError) return error;
  const known = PARSER_CODES[(error as { code?: string }).code ?? ''];
  if (known) return new AtelierError(known.code, known.message, { cause: error });
  // Busboy's own: "Unexpected end of form", "Malformed part header", a connection cut short.
  return new AtelierError('invalid_body', `The multipart body is malformed: ${(error as Error).message ?? 'unreadable'}`, { cause: error });
}

function parseResult(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new AtelierError('invalid_body', 'The result part is not valid JSON', { field: 'result' });
  }
}

async function readCapped(stream: Readable, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new AtelierError('body_too_large', `Expected at most ${maxBytes} bytes for the result part`, { field: 'result' });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Reads the first part of a multipart completion, which must be `result` — a text field
 * (`curl -F 'result=<result.json'`) or a file (`curl -F result=@result.json`) of at most
 * `maxResultBytes` of JSON — and hands over the rest as file parts. The result comes first so
 * the lease is checked before any output byte is read. Parser failures become AtelierErrors
 * (`invalid_body`, `body_too_large`…); a text field after `result` is refused.
 *
 * @example
 * const form = await readCompletionForm(request.parts()[Symbol.asyncIterator](), COMPLETE_BODY_LIMIT);
 * await workers.completeWithParts(worker, jobId, validate(form.result), form.files);
 */
export async function readCompletionForm(parts: AsyncIterator<MultipartPart>, maxResultBytes: number): Promise<CompletionForm> {
  const next = async (): Promise<IteratorResult<MultipartPart>> => {
    try {
      return await parts.next();
    } catch (error) {
      throw parserError(error);
    }
  };

  const first = await next();
  if (first.done) throw new AtelierError('invalid_parameter', 'Expected a part named result (the callback JSON), but the form is empty', { field: 'result' });
  const part = first.value;
  if (part.fieldname !== 'result') {
    throw new AtelierError('invalid_parameter', `Expected the first part to be result (the callback JSON, before the files) but received '${part.fieldname.slice(0, 60)}'`, { field: 'result' });
  }
  let result: unknown;
  if (part.type === 'file') {
    result = parseResult(await readCapped(part.file, maxResultBytes));
  } else if (part.valueTruncated) {
    throw new AtelierError('body_too_large', `Expected at most ${maxResultBytes} bytes for the result field`, { field: 'result' });
  } else {
    // A field labelled application/json arrives parsed already.
    result = typeof part.value === 'string' ? parseResult(part.value) : part.value;
  }

  async function* files(): AsyncGenerator<FilePart> {
    for (;;) {
      const { done, value } = await next();
      if (done) return;
      if (value.type !== 'file') {
        throw new AtelierError('invalid_parameter', `Expected file parts after result, but '${value.fieldname.slice(0, 60)}' is a text field: send the bytes as a file (curl -F ${value.fieldname.slice(0, 60)}=@out.png)`, {
          field: value.fieldname.slice(0, 60),
        });
      }
      yield { name: value.fieldname, stream: value.file };
    }
  }
  return { result, files: files() };
}
