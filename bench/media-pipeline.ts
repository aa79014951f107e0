import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { DEFAULT_PRESETS } from '../src/media/image/presets.js';
import { THUMBNAIL_MAX_EDGE, THUMBNAIL_WEBP_QUALITY } from '../src/media/image/thumbnail.js';

const run = promisify(execFile);

/** One figure: what, Atelier's value, the reference's value, the ratio (as in bench/run.ts). */
export type Row = [string, string, string, string];

/** Throughput and peak memory of one approach, measured in its own process. */
export interface ApproachResult {
  readonly imagesPerSecond: number;
  readonly peakRssBytes: number;
}

export interface MediaBenchResult {
  readonly atelier: ApproachResult;
  readonly naive: ApproachResult;
  /** Undefined when python3 with Pillow is not installed; `pillowNote` says why. */
  readonly pillow: (ApproachResult & { readonly version: string }) | undefined;
  readonly pillowNote: string | undefined;
}

const SIZES = [512, 1024, 2048];
const PRESET = 'stable-diffusion';

/**
 * Thumbnail + both delivery variants (stable-diffusion preset) of 512², 1024² and 2048² PNGs,
 * by (1) Atelier's `renderDerivatives` (one decode), (2) a naive sharp pipeline per output and
 * (3) seed 003's Pillow code (`bench/reference/pillow_thumbnail.py`). Each runs in its own
 * child process, one image at a time, so its peak RSS is its own. Needs the compiled bench
 * (`dist/bench`), like the rest of `npm run bench`.
 */
export async function measureMediaPipeline(rounds = Number(process.env.BENCH_MEDIA_ROUNDS ?? 5)): Promise<MediaBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'atelier-media-bench-'));
  try {
    const files = await Promise.all(SIZES.map((size) => writeTestImage(join(dir, `${size}.png`), size)));
    const child = fileURLToPath(new URL('./media-pipeline-child.js', import.meta.url));
    const node = async (approach: string): Promise<ApproachResult> => {
      const { stdout } = await run(process.execPath, [child, approach, PRESET, String(rounds), ...files], { maxBuffer: 1 << 20 });
      const { images, seconds, peakRssBytes } = JSON.parse(stdout) as { images: number; seconds: number; peakRssBytes: number };
      return { imagesPerSecond: images / seconds, peakRssBytes };
    };
    const atelier = await node('atelier');
    const naive = await node('naive');
    const { pillow, note } = await pillowReference(rounds, files);
    return { atelier, naive, pillow, pillowNote: note };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** {@link measureMediaPipeline} as rows for bench/run.ts. */
export async function benchMediaPipeline(rounds?: number): Promise<Row[]> {
  const { atelier, naive, pillow, pillowNote } = await measureMediaPipeline(rounds);
  const ips = (r: ApproachResult) => `${r.imagesPerSecond.toFixed(1)} images/s`;
  const mb = (r: ApproachResult) => `${(r.peakRssBytes / 1024 / 1024).toFixed(0)} MB`;
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  const what = `media: thumbnail + 2 variants (${PRESET}), ${SIZES.map((s) => `${s}²`).join('/')} PNG, ${cpus().length} CPUs`;
  return [
    pillow
      ? [what, ips(atelier), `Pillow ${pillow.version} (seed 003) ${ips(pillow)}`, ratio(atelier.imagesPerSecond, pillow.imagesPerSecond)]
      : [what, ips(atelier), `Pillow unavailable: ${pillowNote}`, 'n/a'],
    ['  vs sharp, one decode per output', '', ips(naive), ratio(atelier.imagesPerSecond, naive.imagesPerSecond)],
    ['  peak RSS (own process)', mb(atelier), `${pillow ? `Pillow ${mb(pillow)}, ` : ''}naive sharp ${mb(naive)}`, pillow ? ratio(atelier.peakRssBytes, pillow.peakRssBytes) : 'n/a'],
  ];
}

/** Runs the Pillow reference, or says why it cannot (python3 or PIL missing). */
async function pillowReference(rounds: number, files: string[]): Promise<{ pillow?: ApproachResult & { version: string }; note?: string }> {
  // bench/reference is not compiled: from dist/bench it is two levels up, from bench/ beside us.
  const script = [new URL('./reference/pillow_thumbnail.py', import.meta.url), new URL('../../bench/reference/pillow_thumbnail.py', import.meta.url)]
    .map((u) => fileURLToPath(u))
    .find((path) => existsSync(path));
  if (script === undefined) return { note: 'bench/reference/pillow_thumbnail.py not found' };
  const python = await findPythonWithPillow();
  if (python === undefined) return { note: 'python3 with Pillow is not installed (apt-get install python3-pil)' };
  const preset = DEFAULT_PRESETS.find((p) => p.name === PRESET)!;
  const outputs = [
    [THUMBNAIL_MAX_EDGE, THUMBNAIL_MAX_EDGE, 'WEBP', THUMBNAIL_WEBP_QUALITY],
    [preset.normal.width, preset.normal.height, 'JPEG', preset.normal.quality],
    [preset.high.width, preset.high.height, 'WEBP', preset.high.quality],
  ];
  const { stdout } = await run(python, [script, JSON.stringify(outputs), String(rounds), ...files], { maxBuffer: 1 << 20 });
  const result = JSON.parse(stdout) as { images_per_second: number; peak_rss_bytes: number; pillow: string };
  return { pillow: { imagesPerSecond: result.images_per_second, peakRssBytes: result.peak_rss_bytes, version: result.pillow } };
}

/**
 * The first interpreter that imports PIL: `BENCH_PYTHON`, then `python3` on the PATH, then
 * Debian's `/usr/bin/python3` (where `apt-get install python3-pil` puts it even when a pyenv
 * or venv `python3` comes first on the PATH).
 */
async function findPythonWithPillow(): Promise<string | undefined> {
  for (const candidate of [process.env.BENCH_PYTHON, 'python3', '/usr/bin/python3']) {
    if (!candidate) continue;
    try {
      await run(candidate, ['-c', 'import PIL']);
      return candidate;
    } catch {
      // Not installed here, or no PIL: try the next.
    }
  }
  return undefined;
}

/**
 * A square PNG of gradients plus noise: like a generated image, it neither compresses to
 * nothing (flat colour) nor is pure noise. Deterministic (xorshift), so runs compare.
 */
async function writeTestImage(file: string, size: number): Promise<string> {
  const pixels = Buffer.alloc(size * size * 3);
  let state = 0x9e3779b9 ^ size;
  for (let y = 0, i = 0; y < size; y++) {
    for (let x = 0; x < size; x++, i += 3) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      const noise = (state & 0x3f) - 32;
      pixels[i] = clamp((x * 255) / size + noise);
      pixels[i + 1] = clamp((y * 255) / size + noise);
      pixels[i + 2] = clamp(128 + 100 * Math.sin((x + y) / 40) + noise);
    }
  }
  await sharp(pixels, { raw: { width: size, height: size, channels: 3 } }).png().toFile(file);
  return file;
}

function clamp(value: number): number {
  return Math.max(0, Math.min(255, Math.round(value)));
}
