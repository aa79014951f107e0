/** The image types the server accepts for uploads (src/media/image probe: PNG, JPEG, WebP). */
export const IMAGE_TYPES = 'image/png,image/jpeg,image/webp';

const ACCEPTED = new Set(IMAGE_TYPES.split(','));
const BY_EXTENSION: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp' };

/**
 * Why a picked, dropped or pasted file cannot be used, in words; undefined when it can. The
 * server checks the bytes again: this only spares an upload that is bound to be refused.
 *
 * @example refusal(new File([], 'cat.gif', { type: 'image/gif' })) // '“cat.gif” is a GIF image. Use a PNG, JPEG or WebP image.'
 */
export function refusal(file: File): string | undefined {
  const extension = /\.([a-z0-9]+)$/i.exec(file.name)?.[1]?.toLowerCase();
  const type = file.type || (extension ? BY_EXTENSION[extension] : undefined);
  if (type && ACCEPTED.has(type)) return undefined;
  const name = file.name ? `“${file.name}”` : 'That file';
  const kind = type?.startsWith('image/') ? `a ${type.slice(6).toUpperCase()} image` : type ? 'not an image' : 'not a file Atelier can read as an image';
  return `${name} is ${kind}. Use a PNG, JPEG or WebP image.`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A name a person can read for an input image: a file name as it is, and instead of the ids the
 * form falls back to ("Asset f5dc126d-…", "Upload a043d38c-…"), what the image is.
 *
 * @example readableName('Asset 0b6f3d1e-9d8c-4a57-9a4b-2e0f1f7d3c11') // 'Image from history'
 */
export function readableName(name: string): string {
  const [kind, id] = name.split(' ');
  if (id && UUID.test(id) && name.split(' ').length === 2) {
    if (/^asset$/i.test(kind!)) return 'Image from history';
    if (/^upload$/i.test(kind!)) return 'Uploaded image';
  }
  return name;
}

/**
 * The label of an image taken from History or a result ("Use as reference"): where it comes
 * from and how its prompt starts, for the Generate form to show instead of the asset id.
 *
 * @example historyImageLabel('a lighthouse at dusk, oil painting, warm light') // 'Image from history · a lighthouse at dusk, oil…'
 */
export function historyImageLabel(prompt: string | undefined, max = 28): string {
  const text = (prompt ?? '').trim().replace(/\s+/g, ' ');
  if (!text) return 'Image from history';
  const start = text.length <= max ? text : `${text.slice(0, max).replace(/\s+\S*$/, '') || text.slice(0, max)}…`;
  return `Image from history · ${start}`;
}
