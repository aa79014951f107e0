import { cpus } from 'node:os';
import { benchMediaRows } from './media-rows.js';

/**
 * `npm run bench -- media`: only issue #17's media figures (mid-frame thumbnails, image
 * pipeline), each beside its reference, bound and target — a few minutes instead of the whole
 * bench. BENCH_MEDIA_ROUNDS (images per file per run, 3) and BENCH_MEDIA_REPEATS (interleaved
 * repetitions whose median is shown, 3) tune it.
 */
const rows = await benchMediaRows();
const header = ['figure', 'Atelier', 'reference', 'ratio', 'target'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
process.stdout.write(`Atelier media benchmarks — Node ${process.version}; ${cpus().length} cores\n\n`);
process.stdout.write(`${[line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')}\n`);
