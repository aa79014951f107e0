import { api, ApiError } from '../../api/client';

/** What the server says about a received upload (src/api/routes/uploads.ts UploadView). */
export interface UploadView {
  readonly uploadId: string;
  readonly status: 'pending' | 'ready';
  readonly filename: string;
  readonly metadata: { readonly width: number; readonly height: number; readonly format: string } | null;
}

interface Presigned {
  readonly uploadId: string;
  readonly uploadUrl: string;
  readonly method: 'PUT';
  readonly headers: Record<string, string>;
}

/**
 * Uploads one image the presigned way: ask for a single-use URL (with the token), then PUT
 * the raw bytes there (authorised by the URL's signature). XMLHttpRequest, because fetch
 * reports no upload progress.
 */
export async function uploadImage(file: File, onProgress: (fraction: number) => void, signal?: AbortSignal): Promise<UploadView> {
  const presigned = await api<Presigned>('/api/uploads/presign', {
    body: { filename: file.name || 'image', content_type: file.type || 'application/octet-stream', size_bytes: file.size },
    ...(signal ? { signal } : {}),
  });
  return putWithProgress(presigned, file, onProgress, signal);
}

function putWithProgress(presigned: Presigned, file: Blob, onProgress: (fraction: number) => void, signal?: AbortSignal): Promise<UploadView> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(presigned.method, presigned.uploadUrl);
    for (const [name, value] of Object.entries(presigned.headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      const data = parse(xhr.responseText) as (UploadView & { code?: string; message?: string }) | undefined;
      if (xhr.status >= 200 && xhr.status < 300 && data) {
        onProgress(1);
        resolve(data);
      } else {
        reject(new ApiError(xhr.status, data?.code ?? 'upload_failed', data?.message ?? `Upload failed (${xhr.status})`));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, 'network_error', 'The upload failed: the server could not be reached'));
    xhr.onabort = () => reject(new DOMException('The upload was canceled', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(file);
  });
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
