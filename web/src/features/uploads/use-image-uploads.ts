import { useCallback, useEffect, useRef } from 'react';
import { slotKey, type ImageSlot } from '../generate/image-slot';
import { uploadImage } from './presigned-upload';

/**
 * Starts uploads for files the user picked and reports each slot's life (progress, ready
 * with its upload id and shape, or the server's error) through `update`. Local previews are
 * blob: URLs, revoked when the page goes away.
 */
export function useImageUploads(update: (key: string, patch: Partial<ImageSlot>) => void): (file: File) => ImageSlot {
  const previews = useRef<string[]>([]);
  const updateRef = useRef(update);
  updateRef.current = update;
  useEffect(
    () => () => {
      for (const url of previews.current) URL.revokeObjectURL(url);
    },
    [],
  );
  return useCallback((file: File) => {
    const key = slotKey();
    const previewUrl = URL.createObjectURL(file);
    previews.current.push(previewUrl);
    let last = 0;
    uploadImage(file, (fraction) => {
      // Progress events come fast; a percent step is enough to move the bar.
      if (fraction - last >= 0.01 || fraction === 1) {
        last = fraction;
        updateRef.current(key, { progress: fraction });
      }
    })
      .then((view) =>
        updateRef.current(key, {
          status: 'ready',
          progress: 1,
          ref: { upload_id: view.uploadId },
          ...(view.metadata ? { width: view.metadata.width, height: view.metadata.height } : {}),
        }),
      )
      .catch((error: unknown) => updateRef.current(key, { status: 'error', error: error instanceof Error ? error.message : String(error) }));
    return { key, name: file.name, status: 'uploading', progress: 0, previewUrl };
  }, []);
}
