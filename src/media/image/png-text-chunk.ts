import { crc32, inflateSync } from 'node:zlib';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Length, type and CRC around each chunk's data. */
const CHUNK_OVERHEAD = 12;
const IHDR_DATA_LENGTH = 13;

/** Inflated iTXt text beyond this is skipped: a tiny chunk must not expand into gigabytes. */
const MAX_INFLATED_TEXT = 8 * 1024 * 1024;

interface Chunk {
  readonly type: string;
  readonly data: Buffer;
  readonly crcValid: () => boolean;
}

function assertPng(png: Buffer): void {
  if (png.length < PNG_SIGNATURE.length || !png.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) {
    throw new Error('Expected a PNG (the 8-byte PNG signature) but received other data');
  }
}

/** Walks the chunks, throwing on truncation rather than reading past the end. */
function* chunks(png: Buffer): Generator<Chunk> {
  assertPng(png);
  let offset = PNG_SIGNATURE.length;
  while (offset + CHUNK_OVERHEAD <= png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const end = offset + CHUNK_OVERHEAD + length;
    if (end > png.length) throw new Error(`PNG chunk ${type} at byte ${offset} runs past the end of the file`);
    const typeAndData = png.subarray(offset + 4, offset + 8 + length);
    const storedCrc = png.readUInt32BE(offset + 8 + length);
    yield { type, data: typeAndData.subarray(4), crcValid: () => crc32(typeAndData) === storedCrc };
    if (type === 'IEND') return;
    offset = end;
  }
  throw new Error('PNG ends without an IEND chunk');
}

function encodeChunk(type: string, data: Buffer): Buffer {
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(CHUNK_OVERHEAD + data.length);
  out.writeUInt32BE(data.length, 0);
  typeAndData.copy(out, 4);
  out.writeUInt32BE(crc32(typeAndData), 8 + data.length);
  return out;
}

/** PNG keywords: 1–79 printable Latin-1 characters, no leading, trailing or double spaces. */
function assertKeyword(keyword: string): void {
  const printable = /^[\x20-\x7e\xa1-\xff]{1,79}$/.test(keyword);
  if (!printable || keyword.startsWith(' ') || keyword.endsWith(' ') || keyword.includes('  ')) {
    throw new Error(`Expected a PNG text keyword of 1–79 printable Latin-1 characters but received '${keyword}'`);
  }
}

// ASCII only: Latin-1 is legal in tEXt, but libvips (sharp) decodes tEXt as UTF-8 and would
// garble accented prompts, so anything beyond ASCII goes to iTXt, which every reader decodes.
const isAscii = (text: string) => /^[\x01-\x7f]*$/.test(text);

/**
 * Returns a copy of `png` with a text chunk right after IHDR, where readers that stop early
 * (and A1111's "PNG info") find it. ASCII text becomes `tEXt`; anything else an uncompressed
 * UTF-8 `iTXt`, which Pillow, A1111 and sharp all read.
 *
 * @throws Error when `png` is not a PNG, the keyword is invalid or the text contains NUL.
 * @example const tagged = withPngTextChunk(png, 'parameters', formatA1111Parameters(spec, seed))
 */
export function withPngTextChunk(png: Buffer, keyword: string, text: string): Buffer {
  assertPng(png);
  assertKeyword(keyword);
  if (text.includes('\0')) throw new Error('Expected PNG text without NUL characters');
  const first = png.toString('latin1', PNG_SIGNATURE.length + 4, PNG_SIGNATURE.length + 8);
  const ihdrEnd = PNG_SIGNATURE.length + CHUNK_OVERHEAD + IHDR_DATA_LENGTH;
  if (first !== 'IHDR' || png.readUInt32BE(PNG_SIGNATURE.length) !== IHDR_DATA_LENGTH || png.length < ihdrEnd) {
    throw new Error('Expected the PNG to start with an IHDR chunk');
  }
  const key = Buffer.from(keyword, 'latin1');
  const chunk = isAscii(text)
    ? encodeChunk('tEXt', Buffer.concat([key, Buffer.from([0]), Buffer.from(text, 'latin1')]))
    : // keyword NUL, compression flag 0, method 0, empty language NUL, empty translated keyword NUL
      encodeChunk('iTXt', Buffer.concat([key, Buffer.from([0, 0, 0, 0, 0]), Buffer.from(text, 'utf8')]));
  return Buffer.concat([png.subarray(0, ihdrEnd), chunk, png.subarray(ihdrEnd)]);
}

/**
 * Chunks that describe how or when a file was made rather than its pixels: text (ComfyUI's
 * `prompt` and `workflow` graphs, A1111's own `parameters`), EXIF and the modification time.
 * Colour chunks (iCCP, sRGB, gAMA, cHRM) and pHYs stay: they change how pixels look.
 */
const METADATA_CHUNKS = new Set(['tEXt', 'zTXt', 'iTXt', 'eXIf', 'tIME']);

/**
 * Returns `png` without its metadata chunks (the same buffer when it has none), so a backend's
 * own record (a ComfyUI API graph with checkpoint and LoRA names, a second `parameters`) never
 * reaches a delivered file.
 *
 * @throws Error when `png` is not a PNG or is truncated.
 */
export function withoutPngMetadata(png: Buffer): Buffer {
  const kept: Buffer[] = [png.subarray(0, PNG_SIGNATURE.length)];
  let offset = PNG_SIGNATURE.length;
  let dropped = false;
  for (const { type, data } of chunks(png)) {
    const size = CHUNK_OVERHEAD + data.length;
    if (METADATA_CHUNKS.has(type)) dropped = true;
    else kept.push(png.subarray(offset, offset + size));
    offset += size;
  }
  return dropped ? Buffer.concat(kept) : png;
}

/** Decodes one iTXt chunk's text, inflating it when the compression flag is set. */
function readItxt(data: Buffer): [string, string] | undefined {
  const keyEnd = data.indexOf(0);
  if (keyEnd < 1 || keyEnd + 3 > data.length) return undefined;
  const compressed = data[keyEnd + 1] === 1;
  const languageEnd = data.indexOf(0, keyEnd + 3);
  const translatedEnd = languageEnd < 0 ? -1 : data.indexOf(0, languageEnd + 1);
  if (translatedEnd < 0) return undefined;
  const body = data.subarray(translatedEnd + 1);
  try {
    const text = compressed ? inflateSync(body, { maxOutputLength: MAX_INFLATED_TEXT }) : body;
    return [data.toString('latin1', 0, keyEnd), text.toString('utf8')];
  } catch {
    return undefined;
  }
}

/**
 * Reads the `tEXt` and `iTXt` chunks of a PNG as keyword → text. When a keyword repeats, the
 * first chunk wins, matching where `withPngTextChunk` puts its chunk. Chunks with a bad CRC
 * are skipped, as libpng does for ancillary chunks.
 *
 * @throws Error when `png` is not a PNG or is truncated.
 */
export function readPngTextChunks(png: Buffer): Record<string, string> {
  // A Map, then fromEntries: a keyword such as "__proto__" must stay an ordinary key.
  const texts = new Map<string, string>();
  for (const { type, data, crcValid } of chunks(png)) {
    if ((type !== 'tEXt' && type !== 'iTXt') || !crcValid()) continue;
    let entry: [string, string] | undefined;
    if (type === 'tEXt') {
      const keyEnd = data.indexOf(0);
      if (keyEnd >= 1) entry = [data.toString('latin1', 0, keyEnd), data.toString('latin1', keyEnd + 1)];
    } else {
      entry = readItxt(data);
    }
    if (entry && !texts.has(entry[0])) texts.set(entry[0], entry[1]);
  }
  return Object.fromEntries(texts);
}
