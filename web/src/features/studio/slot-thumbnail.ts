/**
 * A small preview of a picked image as a data: URL. The uploads' own previews are blob: URLs,
 * which end with the page that made them; this one is kept with the form, so the reference,
 * frames and guidance images still show after History, Back or a reload. Undefined when the
 * browser cannot decode the file (the upload's own error says why).
 */
export async function thumbnailDataUrl(file: Blob, maxSide = 384): Promise<string | undefined> {
  if (typeof createImageBitmap !== 'function' || typeof document === 'undefined') return undefined;
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    const context = canvas.getContext('2d');
    if (!context) return undefined;
    context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    // WebP keeps transparency and stays small (~10 KB at this size).
    return canvas.toDataURL('image/webp', 0.85);
  } catch {
    return undefined;
  }
}
