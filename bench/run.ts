import { benchBuiltinMedia } from './builtin-media.js';
import { benchCacheHit } from './cache-hit.js';
import { benchMediaPipeline } from './media-pipeline.js';
import { benchMidFrameThumbnail } from './mid-frame-thumbnail.js';
import { benchOrchestration } from './orchestration.js';
import { benchRenderer } from './renderer.js';
import { benchRemoteWorkers } from './remote-workers.js';
import { benchRouting } from './routing.js';
import { benchScaleOut } from './scale-out.js';
import { benchSqliteFloor } from './sqlite-floor.js';

/**
 * `npm run bench`: every figure side by side with the reference it is measured against,
 * in one run on this machine.
 */
const JOBS = Number(process.env.BENCH_JOBS ?? 1000);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 16);

const fmt = (n: number, digits = 1) => n.toFixed(digits);

const floor = await benchSqliteFloor(JOBS);
const orchestration = await benchOrchestration(JOBS, CLIENTS, 200);
const renderer = await benchRenderer(5);
const builtinMedia = await benchBuiltinMedia();
const midFrame = await benchMidFrameThumbnail();
const mediaRows = await benchMediaPipeline();
const cacheHit = await benchCacheHit();
const routing = await benchRouting(4, 200, 400);
const remote = await benchRemoteWorkers(4, 200, 400);
const scaleOut = await benchScaleOut(JOBS);

const rows: [string, string, string, string][] = [
  ['orchestration (no-work backend)', `${fmt(orchestration.jobsPerSecond)} jobs/s`, `bare SQLite queue loop ${fmt(floor.jobsPerSecond)} jobs/s`, `${fmt(orchestration.jobsPerSecond / floor.jobsPerSecond, 3)}×`],
  ['  submit→terminal p50, one at a time', `${fmt(orchestration.p50Ms)} ms`, '', ''],
  ['  submit→terminal p99, one at a time', `${fmt(orchestration.p99Ms)} ms`, '', ''],
  ['preview renderer 1024² × 30 steps', `${fmt(renderer.medianMs)} ms (min ${fmt(renderer.minMs)})`, 'budget 1000 ms', `${fmt(renderer.medianMs / 1000, 3)}×`],
  ['preview img2img 1024² × 30 steps, denoise 0.6', `${fmt(builtinMedia.i2iMs)} ms`, 'budget 1000 ms', `${fmt(builtinMedia.i2iMs / 1000, 3)}×`],
  ['preview video 832×480 × 48 frames (MP4)', `${fmt(builtinMedia.videoMs)} ms`, 'real time 3000 ms', `${fmt(builtinMedia.videoMs / 3000, 3)}×`],
  [
    'mid-frame thumbnail, 1080p 10 s H.264',
    `${fmt(midFrame.atelierMs)} ms`,
    midFrame.opencvMs === undefined ? `OpenCV: ${midFrame.note ?? 'unavailable'}` : `OpenCV seek (seed 000) ${fmt(midFrame.opencvMs)} ms`,
    midFrame.opencvMs === undefined ? '—' : `${fmt(midFrame.opencvMs / midFrame.atelierMs, 2)}× as fast`,
  ],
  ...mediaRows,
  ['routing: 400 jobs on 4 simulated GPUs × 200 ms (makespan)', `${fmt(routing.makespanMs / 1000, 2)} s`, `ideal N·L/K ${fmt(routing.idealMs / 1000, 2)} s`, `${fmt(routing.ratio, 3)}×`],
  ['  same through the remote-worker protocol (4 workers)', `${fmt(remote.makespanMs / 1000, 2)} s`, `ideal N·L/K ${fmt(remote.idealMs / 1000, 2)} s`, `${fmt(remote.ratio, 3)}×`],
  [
    'scale-out (2 nodes + 2 workers; PostgreSQL, BullMQ, S3), no-work backend',
    scaleOut.scaleOutJobsPerSecond === undefined ? scaleOut.note ?? '—' : `${fmt(scaleOut.scaleOutJobsPerSecond)} jobs/s`,
    scaleOut.rawBullmqJobsPerSecond === undefined ? '' : `raw BullMQ no-op jobs ${fmt(scaleOut.rawBullmqJobsPerSecond)} jobs/s`,
    scaleOut.scaleOutJobsPerSecond === undefined || scaleOut.rawBullmqJobsPerSecond === undefined ? '—' : `${fmt(scaleOut.scaleOutJobsPerSecond / scaleOut.rawBullmqJobsPerSecond, 3)}×`,
  ],
  ['  embedded (one process, SQLite), same no-work backend', `${fmt(orchestration.jobsPerSecond)} jobs/s`, '', scaleOut.scaleOutJobsPerSecond === undefined ? '' : `scale-out ${fmt(scaleOut.scaleOutJobsPerSecond / orchestration.jobsPerSecond, 2)}× embedded`],
  ['prompt-cache hit, submit→terminal (1024², 30 steps)', `${fmt(cacheHit.hitMs)} ms`, `fresh render ${fmt(cacheHit.freshMs)} ms`, `${fmt(cacheHit.freshMs / cacheHit.hitMs, 1)}× faster`],
];

process.stdout.write(`Atelier benchmarks — ${JOBS} jobs from ${CLIENTS} HTTP clients; Node ${process.version}\n\n`);
const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length), ['figure', 'Atelier', 'reference', 'ratio'][i]!.length));
const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
process.stdout.write(`${line(['figure', 'Atelier', 'reference', 'ratio'])}\n${line(widths.map((w) => '-'.repeat(w)))}\n`);
for (const row of rows) process.stdout.write(`${line(row)}\n`);
