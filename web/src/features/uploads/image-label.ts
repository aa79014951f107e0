import { useEffect, useState } from 'react';
import { api } from '../../api/client';
import type { ImageRef, ImageSlot } from '../generate/image-slot';
import { historyImageLabel, readableName } from './image-file';

const labels = new Map<string, Promise<string>>();

/**
 * What an input image named only by its reference is, for people: an asset is "Image from
 * history · <its prompt's start>" (GET /api/images/{id}), an upload its file name
 * (GET /api/uploads/{id}), a URL its file name. Answers are kept for the page's life; a lookup
 * that fails falls back to the generic name.
 */
export function resolveImageLabel(ref: ImageRef): Promise<string> {
  const key = JSON.stringify(ref);
  let label = labels.get(key);
  if (!label) {
    label = lookUp(ref);
    labels.set(key, label);
  }
  return label;
}

async function lookUp(ref: ImageRef): Promise<string> {
  if ('url' in ref) {
    const file = decodeURIComponent(new URL(ref.url, location.href).pathname.split('/').pop() ?? '');
    return file || ref.url;
  }
  try {
    if ('asset_id' in ref) return historyImageLabel((await api<{ prompt: string }>(`/api/images/${encodeURIComponent(ref.asset_id)}`)).prompt);
    return (await api<{ filename: string }>(`/api/uploads/${encodeURIComponent(ref.upload_id)}`)).filename || 'Uploaded image';
  } catch {
    return 'asset_id' in ref ? 'Image from history' : 'Uploaded image';
  }
}

/**
 * The name to show for a slot: its file name as picked, or — when the form only knows an id
 * ("Asset f5dc…", "Upload a043…") — a readable name at once, then the looked-up label.
 */
export function useImageLabel(slot: ImageSlot | undefined): string {
  const name = slot?.name ?? '';
  const fallback = readableName(name);
  const needsLookUp = !!slot?.ref && fallback !== name;
  const [resolved, setResolved] = useState<{ name: string; label: string }>();
  useEffect(() => {
    if (!needsLookUp || !slot?.ref) return;
    let current = true;
    void resolveImageLabel(slot.ref).then((label) => {
      if (current) setResolved({ name, label });
    });
    return () => {
      current = false;
    };
  }, [needsLookUp, name, slot?.ref]);
  return needsLookUp && resolved?.name === name ? resolved.label : fallback;
}
