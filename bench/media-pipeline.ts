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

/** One figure: what, Atelier's value, the reference's value, the ratio, the target (as in bench/run.ts). */
export type Row = [string, string, string, string, string];

/** Throughput and peak memory of one approach, measured in its own process. */
export interface ApproachResult {
  readonly imagesPerSecond: number;
  /** CPU milliseconds per image (every thread of the process): unlike images/s, barely moved by other load on the machine. */
  readonly cpuMsPerImage: number;
  readonly peakRssBytes: number;
}

export interface MediaBenchResult {
  /** One image at a time, two in flight, and one at a time with glibc's default malloc arenas. */
  readonly atelier: ApproachResult;
  readonly atelier2: ApproachResult;
  readonly atelierDefaultMalloc: ApproachResult;
  readonly naive: ApproachResult;
  /** Encoders alone, one core: images per second of encode time. */
  readonly bound: ApproachResult;
  /** Node + sharp doing nothing (one 8×8 encode). */
  readonly idle: ApproachResult;
  /** Undefined when python3 with Pillow is not installed; `pillowNote` says why. */
  readonly pillow: (ApproachResult & { readonly version: string; readonly idleRssBytes: number }) | undefined;
  readonly pillowNote: string | undefined;
  readonly repeats: number;
}

const SIZES = [512, 1024, 2048];
const PRESET = 'stable-diffusion';
/**
 * What the README asks of the server process: at most two glibc malloc arenas. glibc gives
 * each thread that allocates its own arena (up to 8 per core), and libvips' worker threads
 * each keep tens of MB of freed image memory in theirs.
 */
const SERVER_ENV = { ...process.env, MALLOC_ARENA_MAX: '2' };

/** The median result of each approach, by images per second and by peak RSS separately. */
function medianOf(results: ApproachResult[]): ApproachResult {
  const mid = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  return { imagesPerSecond: mid(results.map((r) => r.imagesPerSecond)), cpuMsPerImage: mid(results.map((r) => r.cpuMsPerImage)), peakRssBytes: mid(results.map((r) => r.peakRssBytes)) };
}

/**
 * Thumbnail + both delivery variants (stable-diffusion preset) of 512², 1024² and 2048² PNGs,
 * by (1) Atelier's `renderDerivatives` (one decode) one image at a time and with two in
 * flight, (2) a naive sharp pipeline per output, (3) seed 003's Pillow code
 * (`bench/reference/pillow_thumbnail.py`), and (4) the encoders alone — the bound any library
 * using libwebp and libjpeg meets. Each runs in its own child process, so its peak RSS is its
 * own; the set is repeated `repeats` times, interleaved, and each figure is the median (the
 * machine's load drifts over a run; interleaving makes the ratios fair). Needs the compiled
 * bench (`dist/bench`), like the rest of `npm run bench`.
 */
export async function measureMediaPipeline(
  rounds = Number(process.env.BENCH_MEDIA_ROUNDS ?? 3),
  repeats = Number(process.env.BENCH_MEDIA_REPEATS ?? 3),
): Promise<MediaBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'atelier-media-bench-'));
  try {
    const files = await Promise.all(SIZES.map((size) => writeTestImage(join(dir, `${size}.png`), size)));
    const child = fileURLToPath(new URL('./media-pipeline-child.js', import.meta.url));
    const node = async (approach: string, env: NodeJS.ProcessEnv = SERVER_ENV): Promise<ApproachResult> => {
      const { stdout } = await run(process.execPath, [child, approach, PRESET, String(rounds), ...files], { maxBuffer: 1 << 20, env });
      const { images, seconds, cpuSeconds, peakRssBytes } = JSON.parse(stdout) as { images: number; seconds: number; cpuSeconds: number; peakRssBytes: number };
      return { imagesPerSecond: seconds > 0 ? images / seconds : 0, cpuMsPerImage: images > 0 ? (cpuSeconds * 1000) / images : 0, peakRssBytes };
    };
    const runs: Record<string, ApproachResult[]> = { atelier: [], atelier2: [], atelierDefaultMalloc: [], naive: [], bound: [], pillow: [] };
    let pillowInfo: { version: string; idleRssBytes: number } | undefined;
    let pillowNote: string | undefined;
    for (let repeat = 0; repeat < repeats; repeat++) {
      runs.bound!.push(await node('bound'));
      runs.atelier!.push(await node('atelier'));
      runs.atelier2!.push(await node('atelier-2'));
      const pillow = await pillowReference(rounds, files);
      if (pillow.pillow) {
        runs.pillow!.push(pillow.pillow);
        pillowInfo = { version: pillow.pillow.version, idleRssBytes: pillow.pillow.idleRssBytes };
      }
      pillowNote = pillow.note;
      runs.naive!.push(await node('naive'));
    }
    runs.atelierDefaultMalloc!.push(await node('atelier', process.env));
    const idle = await node('idle');
    return {
      atelier: medianOf(runs.atelier!),
      atelier2: medianOf(runs.atelier2!),
      atelierDefaultMalloc: medianOf(runs.atelierDefaultMalloc!),
      naive: medianOf(runs.naive!),
      bound: medianOf(runs.bound!),
      idle,
      pillow: pillowInfo && runs.pillow!.length > 0 ? { ...medianOf(runs.pillow!), ...pillowInfo } : undefined,
      pillowNote,
      repeats,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** {@link measureMediaPipeline} as rows for bench/run.ts. */
export async function benchMediaPipeline(rounds?: number, repeats?: number): Promise<Row[]> {
  const r = await measureMediaPipeline(rounds, repeats);
  const cores = cpus().length;
  const ips = (x: ApproachResult) => `${x.imagesPerSecond.toFixed(1)} images/s`;
  const cpu = (x: ApproachResult) => `${x.cpuMsPerImage.toFixed(0)} ms CPU`;
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  const { pillow } = r;
  const what = `media: thumbnail + 2 variants (${PRESET}), ${SIZES.map((s) => `${s}²`).join('/')} PNG, ${cores} CPUs (median of ${r.repeats})`;
  // The encoders alone on every core: no library that calls libwebp and libjpeg with these settings can beat it.
  const bound = r.bound.imagesPerSecond * cores;
  const vsPillow = (x: ApproachResult): [string, string] =>
    pillow ? [`Pillow ${pillow.version} (seed 003) ${ips(pillow)}`, ratio(x.imagesPerSecond, pillow.imagesPerSecond)] : [`Pillow unavailable: ${r.pillowNote}`, 'n/a'];
  const rssVsPillow = (bytes: number): [string, string] => (pillow ? [`Pillow ${mb(pillow.peakRssBytes)}`, ratio(bytes, pillow.peakRssBytes)] : ['Pillow unavailable', 'n/a']);
  return [
    [`${what}, two images in flight`, ips(r.atelier2), ...vsPillow(r.atelier2), '≥ 1.6×'],
    ['  one image at a time', ips(r.atelier), ...vsPillow(r.atelier), ''],
    [`  encoder bound: each encode alone × ${cores} cores`, ips(r.atelier2), `bound ${bound.toFixed(1)} images/s`, ratio(r.atelier2.imagesPerSecond, bound), '≥ 0.83× (within 1.2×)'],
    // CPU per image: what a quiet machine's cores would turn into images/s (cores × 1000 / ms).
    ['  CPU per image, two in flight (all threads)', cpu(r.atelier2), `encoders alone ${cpu(r.bound)}`, ratio(r.bound.cpuMsPerImage, r.atelier2.cpuMsPerImage), '≥ 0.83×'],
    ['  CPU per image, one at a time', cpu(r.atelier), pillow ? `Pillow ${cpu(pillow)}` : 'Pillow unavailable', pillow ? ratio(pillow.cpuMsPerImage, r.atelier.cpuMsPerImage) : 'n/a', ''],
    ['  vs sharp, one decode per output', ips(r.atelier), `naive sharp ${ips(r.naive)}`, ratio(r.atelier.imagesPerSecond, r.naive.imagesPerSecond), ''],
    ['  peak RSS, one at a time (MALLOC_ARENA_MAX=2)', mb(r.atelier.peakRssBytes), ...rssVsPillow(r.atelier.peakRssBytes), '≤ 1.00×'],
    ['  peak RSS, two in flight (MALLOC_ARENA_MAX=2)', mb(r.atelier2.peakRssBytes), ...rssVsPillow(r.atelier2.peakRssBytes), ''],
    ['  peak RSS, one at a time, default malloc', mb(r.atelierDefaultMalloc.peakRssBytes), `naive sharp ${mb(r.naive.peakRssBytes)}`, '', ''],
    ['  idle process (Node + sharp / Python + Pillow)', mb(r.idle.peakRssBytes), pillow ? `Python ${mb(pillow.idleRssBytes)}` : 'Pillow unavailable', '', ''],
  ];
}

/** Runs the Pillow reference, or says why it cannot (python3 or PIL missing). */
async function pillowReference(rounds: number, files: string[]): Promise<{ pillow?: ApproachResult & { version: string; idleRssBytes: number }; note?: string }> {
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
  const result = JSON.parse(stdout) as { images: number; images_per_second: number; cpu_seconds: number; peak_rss_bytes: number; idle_rss_bytes: number; pillow: string };
  return {
    pillow: {
      imagesPerSecond: result.images_per_second,
      cpuMsPerImage: (result.cpu_seconds * 1000) / result.images,
      peakRssBytes: result.peak_rss_bytes,
      idleRssBytes: result.idle_rss_bytes,
      version: result.pillow,
    },
  };
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
