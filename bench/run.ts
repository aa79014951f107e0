import { cpus } from 'node:os';
import { benchBuiltinMedia } from './builtin-media.js';
import { benchCacheHit } from './cache-hit.js';
import { benchCacheHitLatency } from './cache-hit-latency.js';
import { costTable, type JobCost } from './job-cost.js';
import { benchMediaRows } from './media-rows.js';
import { benchOrchestration } from './orchestration.js';
import { procAvailable } from './process-cpu.js';
import { benchRenderer } from './renderer.js';
import { benchRemoteWorkers } from './remote-workers.js';
import { benchRouting } from './routing.js';
import { benchSafetyScan } from './safety-scan.js';
import { benchScaleOut } from './scale-out.js';
import { benchSqliteFloor } from './sqlite-floor.js';

/**
 * `npm run bench`: every figure side by side with the reference it is measured against, in
 * one run on this machine, and issue 13's target next to the figures it sets one for.
 *
 * What the output means:
 * - "orchestration (no-work backend)": the embedded server (one process, SQLite, disk storage)
 *   running BENCH_JOBS jobs from BENCH_CLIENTS concurrent HTTP clients with a backend that
 *   returns a ready 64×64 PNG; each job has its own seed and the prompt cache is off, so every
 *   job reaches the runner. Reference: a bare SQLite insert/claim/complete loop. Target ≥ 0.1×.
 * - "submit→terminal p50/p99": the same server, one job at a time. Target p50 ≤ 5 ms.
 * - "prompt-cache hit, no-work": cache on, one prime submit, then ~200 identical submits one at
 *   a time; a hit answers `succeeded` in the submit response. Target p50 ≤ 10 ms. The 1024²
 *   fresh-vs-hit row is the older figure: a real preview render against its cached copy.
 * - The servers of the figures above and below run with the safety scan off (as the prompt cache
 *   and rate limits are): they measure orchestration; the scan's own cost has its rows.
 * - "safety scan": the built-in classifier (nsfwjs's MobileNetV2 on TensorFlow.js's WASM backend,
 *   in its worker thread) on the 224² pixels renderDerivatives hands over, median of 20; beside
 *   it the derivatives of one 1024² PNG (thumbnail + the stable-diffusion preset's variants), the
 *   same with the 224² pixels taken from their decode, and the model's load from a cold start.
 * - "scale-out": N `atelier serve` processes on PostgreSQL + Redis/BullMQ, one simulated
 *   worker process per node pulling over HTTP (no work), storage S3 (s3rver in its own
 *   process) or disk (all nodes on one shared MEDIA_DIR). Reference: raw BullMQ no-op jobs on
 *   the same Redis in this run. Target for 2 nodes (S3): ≥ 0.05×. Every process of a run shares
 *   this machine's cores, so more nodes cannot add throughput once the cores are busy: see
 *   "CPU busy" in the per-job table.
 * - "per-job cost": each column one timed run, each figure divided by its jobs. SQL statements,
 *   storage requests by op and fsyncs and HTTP requests by route are the nodes' own counters
 *   (`/metrics`, summed over nodes). Redis commands are the Redis server's
 *   total_commands_processed, and PostgreSQL/redis CPU are those servers' processes: both are
 *   server-wide, so anything else using them during the run counts too. CPU ms come from
 *   /proc/<pid>/stat per process group. Embedded columns run the server inside the bench, so
 *   their CPU row "atelier node(s)" is the whole bench process, HTTP clients included.
 *   "CPU busy" = total CPU ms per job × jobs/s: how many of the machine's cores the run kept
 *   busy; at the core count, the machine is the ceiling and the CPU rows say who burns it.
 *   "other processes on the machine" is the machine's busy time (/proc/stat) not spent by the
 *   run's processes: well above 0 means something else ran meanwhile (another test suite on
 *   the same cores, PostgreSQL and Redis) and the run's figures, the server-wide ones above
 *   all, read worse than on a quiet machine. Redis commands count the commands BullMQ's Lua
 *   scripts run inside Redis too (raw BullMQ's column is the same count for a no-op job).
 */
// `npm run bench -- media`: only the media figures (bench/media-run.ts).
if (process.argv[2] === 'media') {
  await import('./media-run.js');
  process.exit(0);
}

const JOBS = Number(process.env.BENCH_JOBS ?? 1000);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 16);
/** Jobs per scale-out run (6 runs): at most 600 by default to keep the bench short. */
const SCALE_OUT_JOBS = Number(process.env.BENCH_SCALE_OUT_JOBS ?? Math.min(JOBS, 600));

const fmt = (n: number, digits = 1) => n.toFixed(digits);

const floor = await benchSqliteFloor(JOBS);
const orchestration = await benchOrchestration(JOBS, CLIENTS, 200);
const hitLatency = await benchCacheHitLatency(200);
const renderer = await benchRenderer(5);
const builtinMedia = await benchBuiltinMedia();
const mediaRows = await benchMediaRows();
const safety = await benchSafetyScan(20);
const cacheHit = await benchCacheHit();
/** The simulated GPUs' render time in the routing figures. */
const GPU_MS = 200;
const routing = await benchRouting(4, GPU_MS, 400);
const remote = await benchRemoteWorkers(4, GPU_MS, 400);
const scaleOut = await benchScaleOut(SCALE_OUT_JOBS);

const rawBullmq = scaleOut.raw?.jobsPerSecond;
const scaleOutRows = scaleOut.runs.map((run): string[] => {
  const storage = run.storage === 's3' ? 'S3 (s3rver)' : 'disk (shared MEDIA_DIR)';
  const label = `  ${run.nodes} node${run.nodes > 1 ? 's' : ''} + ${run.nodes} worker${run.nodes > 1 ? 's' : ''}, ${storage}`;
  if (run.jobsPerSecond === undefined) return [label, run.note ?? '—', '', '—', ''];
  const target = run.nodes === 2 && run.storage === 's3' ? '≥ 0.05×' : '';
  return [label, `${fmt(run.jobsPerSecond)} jobs/s`, rawBullmq === undefined ? '' : `raw BullMQ ${fmt(rawBullmq)} jobs/s`, rawBullmq === undefined ? '—' : `${fmt(run.jobsPerSecond / rawBullmq, 3)}×`, target];
});

const rows: string[][] = [
  ['orchestration (no-work backend, cache off)', `${fmt(orchestration.jobsPerSecond)} jobs/s`, `bare SQLite queue loop ${fmt(floor.jobsPerSecond)} jobs/s`, `${fmt(orchestration.jobsPerSecond / floor.jobsPerSecond, 3)}×`, '≥ 0.1×'],
  ['  submit→terminal p50, one at a time', `${fmt(orchestration.p50Ms)} ms`, '', '', '≤ 5 ms'],
  ['  submit→terminal p99, one at a time', `${fmt(orchestration.p99Ms)} ms`, '', '', ''],
  [`prompt-cache hit p50, no-work (${hitLatency.hits}/${hitLatency.submits} hits)`, `${fmt(hitLatency.p50Ms)} ms`, '', '', '≤ 10 ms'],
  ['  prompt-cache hit p99, no-work', `${fmt(hitLatency.p99Ms)} ms`, '', '', ''],
  ['prompt-cache hit, submit→terminal (1024², 30 steps)', `${fmt(cacheHit.hitMs)} ms`, `fresh render ${fmt(cacheHit.freshMs)} ms`, `${fmt(cacheHit.freshMs / cacheHit.hitMs, 1)}× faster`, ''],
  ['preview renderer 1024² × 30 steps', `${fmt(renderer.medianMs)} ms (min ${fmt(renderer.minMs)})`, 'budget 1000 ms', `${fmt(renderer.medianMs / 1000, 3)}×`, ''],
  ['preview img2img 1024² × 30 steps, denoise 0.6', `${fmt(builtinMedia.i2iMs)} ms`, 'budget 1000 ms', `${fmt(builtinMedia.i2iMs / 1000, 3)}×`, ''],
  ['preview video 832×480 × 48 frames (MP4)', `${fmt(builtinMedia.videoMs)} ms`, 'real time 3000 ms', `${fmt(builtinMedia.videoMs / 3000, 3)}×`, ''],
  ...mediaRows,
  ['safety scan: nsfwjs MobileNetV2 (tfjs WASM), per image (224²)', `${fmt(safety.perImageMs)} ms`, `derivatives of a 1024² PNG ${fmt(safety.derivativesMs)} ms`, `${fmt(safety.perImageMs / safety.derivativesMs, 2)}×`, ''],
  ['  its 224² pixels from the derivatives\' decode (derivatives with them)', `${fmt(safety.derivativesWithPixelsMs)} ms`, `without ${fmt(safety.derivativesMs)} ms`, `${fmt(safety.derivativesWithPixelsMs / safety.derivativesMs, 2)}×`, ''],
  ['  model load, once per process (first image included)', `${fmt(safety.loadMs)} ms`, '', '', ''],
  ['routing: 400 jobs on 4 simulated GPUs × 200 ms (makespan)', `${fmt(routing.makespanMs / 1000, 2)} s`, `ideal N·L/K ${fmt(routing.idealMs / 1000, 2)} s`, `${fmt(routing.ratio, 3)}×`, '≤ 1.02×'],
  ['  of which: a GPU free, waiting for its next job (mean per job)', `${fmt(routing.idleBetweenMs, 2)} ms`, `render L ${GPU_MS} ms`, `${fmt(routing.idleBetweenMs / GPU_MS, 4)}×`, ''],
  ['  of which: the simulated render overrunning L (its timer firing late)', `${fmt(routing.overrunMs, 2)} ms`, `render L ${GPU_MS} ms`, `${fmt(routing.overrunMs / GPU_MS, 4)}×`, ''],
  ['  same through the remote-worker protocol (4 workers)', `${fmt(remote.makespanMs / 1000, 2)} s`, `ideal N·L/K ${fmt(remote.idealMs / 1000, 2)} s`, `${fmt(remote.ratio, 3)}×`, '≤ 1.02×'],
  [`scale-out, no-work backend, PostgreSQL + BullMQ, ${SCALE_OUT_JOBS} jobs per run`, scaleOut.note ?? '', '', '', ''],
  ...scaleOutRows,
];

const table = (header: string[], body: string[][]) => {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
};

process.stdout.write(`Atelier benchmarks — ${JOBS} jobs from ${CLIENTS} HTTP clients; Node ${process.version}; ${cpus().length} cores\n\n`);
process.stdout.write(`${table(['figure', 'Atelier', 'reference', 'ratio', 'target'], rows)}\n\n`);

const costColumns: { name: string; cost: JobCost }[] = [
  { name: 'embedded', cost: orchestration.cost },
  { name: 'cache hit', cost: hitLatency.cost },
  ...scaleOut.runs.flatMap((run) => (run.cost ? [{ name: `${run.storage === 's3' ? 'S3' : 'disk'} ×${run.nodes}`, cost: run.cost }] : [])),
  ...(scaleOut.raw ? [{ name: 'raw BullMQ', cost: scaleOut.raw.cost }] : []),
];
const [costHeader, ...costBody] = costTable(costColumns);
process.stdout.write(`per-job cost (embedded = one process, SQLite + disk; S3/disk ×N = scale-out with N nodes)${procAvailable ? '' : ' — no /proc: CPU reads 0'}\n`);
process.stdout.write(`${table(costHeader!, costBody)}\n`);
