import type { FastifyRequest } from 'fastify';
import { AtelierError } from '../../../errors/atelier-error.js';

/** A file part of the form: its name as sent and its bytes. */
export interface FormFile {
  readonly filename: string;
  readonly bytes: Buffer;
}

/** An images/edits form: the text fields as sent, and the `image` and `mask` files. */
export interface EditForm {
  readonly fields: Record<string, string>;
  readonly image?: FormFile;
  readonly mask?: FormFile;
}

/** Limits of the multipart parser for an edits form (@fastify/multipart's `limits`). */
export function editFormLimits(maxBytes: number) {
  return { fileSize: maxBytes, files: 2, fields: 32, parts: 34, fieldSize: 64 * 1024 };
}

const FILE_FIELDS = new Set(['image', 'mask']);

/**
 * Reads an OpenAI images/edits form: `image` (the official client names it `image[]` when it
 * is given as a list; one image only), an optional `mask`, and text fields. Files are read
 * whole, each up to the upload limit; everything the parser refuses becomes a catalog error.
 */
export async function readEditForm(request: FastifyRequest, maxBytes: number): Promise<EditForm> {
  if (!request.isMultipart()) throw new AtelierError('unsupported_media_type', 'Expected multipart/form-data with an image file field named image');
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  const files: { image?: FormFile; mask?: FormFile } = {};
  try {
    for await (const part of request.parts()) {
      const name = part.fieldname.replace(/\[\]$/, '');
      if (part.type === 'file') {
        if (!FILE_FIELDS.has(name)) throw new AtelierError('unknown_field', `Unknown file field '${part.fieldname}': expected image or mask`, { field: part.fieldname });
        const key = name as 'image' | 'mask';
        if (files[key]) throw new AtelierError('invalid_parameter', `Expected one file for ${key} but received several`, { field: key });
        files[key] = { filename: part.filename, bytes: await part.toBuffer() };
        continue;
      }
      if (FILE_FIELDS.has(name)) throw new AtelierError('invalid_parameter', `Expected a file for ${name} but received a text field`, { field: name });
      if (part.valueTruncated) throw new AtelierError('invalid_parameter', `Expected at most 64 KiB for ${name} but received more`, { field: name });
      if (name in fields) throw new AtelierError('invalid_parameter', `Expected one value for ${name} but received several`, { field: name });
      fields[name] = String(part.value);
    }
  } catch (error) {
    throw formError(error, maxBytes);
  }
  return { fields: { ...fields }, ...files };
}

/** The multipart parser's errors (@fastify/multipart, busboy) as catalog errors, never a 500. */
function formError(error: unknown, maxBytes: number): AtelierError {
  if (error instanceof AtelierError) return error;
  const code = (error as { code?: unknown }).code;
  if (code === 'FST_REQ_FILE_TOO_LARGE') return new AtelierError('image_too_large', `Expected at most ${maxBytes} bytes for each file`, { field: 'image' });
  if (code === 'FST_FILES_LIMIT') return new AtelierError('invalid_parameter', 'Expected at most two files: image and mask', { field: 'image' });
  if (code === 'FST_FIELDS_LIMIT' || code === 'FST_PARTS_LIMIT') return new AtelierError('invalid_parameter', 'Expected fewer form fields', { field: 'body' });
  if (code === 'FST_PROTO_VIOLATION') return new AtelierError('invalid_parameter', 'Expected form field names other than __proto__', { field: 'body' });
  if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') return new AtelierError('unsupported_media_type', 'Expected multipart/form-data with an image file field named image');
  const reason = error instanceof Error ? error.message.split('\n')[0]!.replace(/^Multipart: /, '') : String(error);
  return new AtelierError('invalid_body', `The multipart/form-data body is malformed: ${reason}`, { cause: error });
}
