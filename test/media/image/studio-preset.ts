/** Issue #17's example preset, as a configuration file would hold it. */
export const STUDIO = {
  name: 'studio',
  normal: { width: 768, height: 768, format: 'jpeg', quality: 80 },
  high: { width: 1536, height: 1536, format: 'avif', quality: 60 },
  extra: [{ name: 'square', width: 256, height: 256, fit: 'cover', position: 'attention', format: 'webp', quality: 80 }],
};
