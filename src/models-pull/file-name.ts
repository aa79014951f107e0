/**
 * The file name a download gets when `--name` is not given: the last segment of the URL's
 * path, decoded (`…/resolve/main/sd_xl_base_1.0.safetensors?download=true` →
 * `sd_xl_base_1.0.safetensors`). Undefined when there is none that {@link checkFileName} accepts.
 */
export function fileNameFromUrl(url: string): string | undefined {
  let segment: string;
  try {
    segment = decodeURIComponent(new URL(url).pathname.split('/').at(-1) ?? '');
  } catch {
    return undefined;
  }
  return checkFileName(segment) === undefined ? segment : undefined;
}

/**
 * Why `name` cannot be a model's file name in the destination folder, or undefined: it must be
 * one plain name — no folder, not hidden, not one of the download's own working names.
 */
export function checkFileName(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..') return 'it is empty';
  if (/[/\\\0]/.test(name)) return 'it names a folder';
  if (name.startsWith('.')) return 'it starts with a dot';
  if (name.length > 200) return 'it is longer than 200 characters';
  if (/\.partial(\.json)?$/.test(name)) return 'it ends in .partial, which downloads use while in progress';
  return undefined;
}
