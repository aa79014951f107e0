/**
 * A `Content-Disposition: attachment` value for a download name: the same ASCII-safe
 * `filename` the disk media route sends, plus RFC 6266's `filename*` so browsers that support
 * it keep a non-ASCII name.
 *
 * @example contentDisposition('café.png') // attachment; filename="caf_.png"; filename*=UTF-8''caf%C3%A9.png
 */
export function contentDisposition(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${safe}"; filename*=UTF-8''${encoded}`;
}
