import type { AssetDetail, InputImageView, RunView, Variant } from './detail-api';

export interface ParameterRow {
  readonly label: string;
  readonly value: string;
  /** Long free text (prompts) is shown as a block; the rest as short values. */
  readonly long?: boolean;
}

const MODE_NAMES: Readonly<Record<string, string>> = {
  t2i: 'Text to image',
  i2i: 'Image to image',
  t2v: 'Text to video',
  i2v: 'Image to video',
  ti2v: 'Text + image to video',
};

export function modeName(mode: string): string {
  return MODE_NAMES[mode] ?? mode;
}

const yesNo = (value: boolean) => (value ? 'Yes' : 'No');

/** 0.1234 → "0.123"; 12 → "12": enough digits to read, none to spare. */
export function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(3)));
}

export function formatDuration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${formatNumber(seconds)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${formatNumber(bytes / 1024)} KB`;
  return `${formatNumber(bytes / 1024 / 1024)} MB`;
}

/** Cents as usual, but small per-image amounts keep up to four decimals (0.0123 USD). */
export function formatCost(cost: NonNullable<RunView['cost']>): string {
  const amount = cost.amount >= 1 || cost.amount === 0 ? cost.amount.toFixed(2) : String(Number(cost.amount.toFixed(4)));
  return `${amount} ${cost.currency}`;
}

const inputName = (image: InputImageView) => `${image.assetId ? `asset ${image.assetId}` : image.uploadId ? `upload ${image.uploadId}` : 'image'} (${image.width} × ${image.height})`;

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/**
 * Every parameter of an asset, in reading order: what was asked for, how it was rendered,
 * what it cost and how it scored. Rows whose value is unknown are left out.
 */
export function parameterRows(detail: AssetDetail, run: RunView | undefined, format: (iso: string) => string = defaultDate): ParameterRow[] {
  const p = run?.parameters;
  const meta = detail.metadata;
  const rows: ParameterRow[] = [];
  const add = (label: string, value: string | undefined, long = false) => {
    if (value !== undefined && value !== '') rows.push(long ? { label, value, long } : { label, value });
  };
  add('Prompt', detail.prompt || '(empty)', true);
  add('Negative prompt', detail.negativePrompt ?? undefined, true);
  add('Model', detail.modelUsed);
  add('Mode', run ? modeName(run.mode) : detail.type === 'video' ? 'Video' : undefined);
  add('Size', `${detail.width} × ${detail.height}`);
  add('Steps', String(detail.parameters.steps));
  add('CFG scale', formatNumber(detail.parameters.cfgScale));
  add('Sampler', detail.parameters.sampler);
  add('Seed', String(detail.parameters.seed));
  if (run && p && p.numImages > 1) add('Batch', `image ${(run.assets.find((a) => a.id === detail.id)?.index ?? Number(meta.asset_index ?? 0)) + 1} of ${p.numImages} (run seed ${run.seed})`);
  if (p?.denoiseStrength !== undefined) add('Denoise', formatNumber(p.denoiseStrength));
  if (p?.exactCopy !== undefined && p.denoiseStrength !== undefined) add('Exact copy', yesNo(p.exactCopy));
  if (p?.referenceImage) add('Reference image', inputName(p.referenceImage));
  if (p?.startImage) add('Start frame', inputName(p.startImage));
  if (p?.endImage) add('End frame', inputName(p.endImage));
  if (p && detail.type !== 'video') add('Hires fix', yesNo(p.hiresFix));
  if (p?.guidanceImages?.length) add('Guidance images', p.guidanceImages.map(inputName).join(', '));
  if (p?.controlnet?.length) add('ControlNet', p.controlnet.map((u) => `${u.type} × ${formatNumber(u.weight)} (${formatNumber(u.start)}–${formatNumber(u.end)})`).join(', '));
  const duration = num(meta.duration_seconds);
  if (duration !== undefined) add('Video length', `${formatNumber(duration)} s`);
  const fps = num(meta.fps) ?? p?.fps;
  if (fps !== undefined) add('FPS', formatNumber(fps));
  const frames = num(meta.frame_count) ?? p?.numFrames;
  if (frames !== undefined) add('Frames', String(frames));
  if (run?.cost) add('Cost', formatCost(run.cost));
  // The first 8 characters tell runs apart; the full id is in GET /api/status.
  if (run) add('Cached', run.cached ? `Yes${run.cachedFrom ? ` (copy of run ${run.cachedFrom.slice(0, 8)})` : ''}` : 'No');
  if (run) add('Backend', run.backend.label || run.backend.kind);
  add('Created', format(detail.createdAt));
  if (detail.generationTime !== null) add('Generation time', formatDuration(detail.generationTime));
  const size = num(meta.file_size_bytes);
  if (size !== undefined) add('File size', formatBytes(size));
  const e = detail.evaluations;
  if (e.clipScore !== undefined) add('CLIP score', formatNumber(e.clipScore));
  if (e.ssim !== undefined) add('SSIM', formatNumber(e.ssim));
  if (e.psnr !== undefined) add('PSNR', `${formatNumber(e.psnr)} dB`);
  if (e.batchDiversity !== undefined) add('Batch diversity', formatNumber(e.batchDiversity));
  if (e.phash !== undefined) add('pHash', e.phash);
  add('Collection', detail.collection === 'library' ? 'Library' : 'Workspace');
  if (detail.expiresAt) add('Expires', format(detail.expiresAt));
  add('Run', detail.runId);
  return rows;
}

function defaultDate(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/**
 * The parameters as text for the clipboard, in the "infotext" layout A1111 writes into its PNGs
 * (prompt line, "Negative prompt:" line, then `Key: value` pairs), so it pastes into other tools.
 */
export function parametersText(detail: AssetDetail, run: RunView | undefined): string {
  const lines = [detail.prompt];
  if (detail.negativePrompt) lines.push(`Negative prompt: ${detail.negativePrompt}`);
  const pairs: [string, string | number | undefined][] = [
    ['Steps', detail.parameters.steps],
    ['Sampler', detail.parameters.sampler],
    ['CFG scale', detail.parameters.cfgScale],
    ['Seed', detail.parameters.seed],
    ['Size', `${detail.width}x${detail.height}`],
    ['Model', detail.modelUsed],
    ['Mode', run?.mode],
    ['Denoising strength', run?.parameters.denoiseStrength],
    ['Hires fix', run && detail.type !== 'video' ? String(run.parameters.hiresFix) : undefined],
    ['FPS', run?.parameters.fps],
    ['Frames', run?.parameters.numFrames],
  ];
  lines.push(
    pairs
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${key}: ${value}`)
      .join(', '),
  );
  return lines.join('\n');
}

/**
 * The picture to show: the high-quality delivery variant (WebP), else the normal one (JPEG),
 * else the original PNG. Variants belong to images only.
 */
export function displayVariant(detail: AssetDetail, run: RunView | undefined): { readonly url: string; readonly width: number; readonly height: number; readonly variant?: Variant } {
  const variants = run?.assets.find((a) => a.id === detail.id)?.variants ?? [];
  const best = variants.find((v) => v.name === 'high') ?? variants.find((v) => v.name === 'normal');
  if (detail.type !== 'video' && best) return { url: best.url, width: best.width, height: best.height, variant: best };
  return { url: detail.imageUrl, width: detail.width, height: detail.height };
}

/** A file name for the download link: the prompt's first words, the seed, and the extension. */
export function downloadName(detail: AssetDetail): string {
  const words = detail.prompt.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/, '');
  const extension = detail.type === 'video' ? 'mp4' : typeof detail.metadata.format === 'string' && detail.metadata.format !== 'mp4' ? detail.metadata.format : 'png';
  return `${words || 'atelier'}-${detail.parameters.seed}.${extension}`;
}
