/** An input image as the API names it (src/jobs/generation-request.ts). */
export type ImageRef = { readonly upload_id: string } | { readonly asset_id: string } | { readonly url: string };

/**
 * One input image of the form (reference, start/end frame, guidance, control image): the
 * file being uploaded with its progress, or a ready reference to an upload, an asset or a URL.
 */
export interface ImageSlot {
  /** Local identity, so progress reports find their slot. */
  readonly key: string;
  readonly name: string;
  readonly status: 'uploading' | 'ready' | 'error';
  /** Upload progress 0–1. */
  readonly progress: number;
  readonly ref?: ImageRef;
  /** Something an <img> can show: a blob: URL of the local file or a signed media URL. */
  readonly previewUrl?: string;
  readonly width?: number;
  readonly height?: number;
  readonly error?: string;
}

let counter = 0;
export function slotKey(): string {
  counter += 1;
  return `slot-${Date.now().toString(36)}-${counter}`;
}

export function isImageRef(value: unknown): value is ImageRef {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  if (keys.length !== 1) return false;
  const [key] = keys;
  const v = (value as Record<string, unknown>)[key!];
  return (key === 'upload_id' || key === 'asset_id' || key === 'url') && typeof v === 'string' && v.length > 0;
}

export function sameRef(a: ImageRef | undefined, b: ImageRef | undefined): boolean {
  return !!a && !!b && JSON.stringify(a) === JSON.stringify(b);
}

function describeRef(ref: ImageRef): string {
  if ('upload_id' in ref) return `Upload ${ref.upload_id}`;
  if ('asset_id' in ref) return `Asset ${ref.asset_id}`;
  return ref.url;
}

/** A ready slot for a reference named in JSON or a draft; keeps the old slot when it is the same image. */
export function slotFromRef(ref: ImageRef, previous?: ImageSlot, previewUrl?: string): ImageSlot {
  if (previous && sameRef(previous.ref, ref)) return previewUrl && !previous.previewUrl ? { ...previous, previewUrl } : previous;
  const preview = previewUrl ?? ('url' in ref ? ref.url : undefined);
  return { key: slotKey(), name: describeRef(ref), status: 'ready', progress: 1, ref, ...(preview ? { previewUrl: preview } : {}) };
}

/** The ref of a slot that finished uploading; undefined while it uploads or after it failed. */
export function readyRef(slot: ImageSlot | undefined): ImageRef | undefined {
  return slot?.status === 'ready' ? slot.ref : undefined;
}
