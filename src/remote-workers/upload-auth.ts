/** How an asset upload proves it belongs to a live attempt: the worker's lease, or a presigned URL's signature. */
export type UploadAuth =
  | { readonly kind: 'lease'; readonly worker: { readonly id: string; readonly name: string }; readonly leaseToken: string }
  | { readonly kind: 'signed'; readonly attempt: number; readonly expires: string; readonly signature: string };
