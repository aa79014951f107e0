import { benchOrchestration } from './orchestration.js';
import { benchRenderer } from './renderer.js';
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

const rows: [string, string, string, string][] = [
  ['orchestration (no-work backend)', `${fmt(orchestration.jobsPerSecond)} jobs/s`, `bare SQLite queue loop ${fmt(floor.jobsPerSecond)} jobs/s`, `${fmt(orchestration.jobsPerSecond / floor.jobsPerSecond, 3)}×`],
  ['  submit→terminal p50, one at a time', `${fmt(orchestration.p50Ms)} ms`, '', ''],
  ['  submit→terminal p99, one at a time', `${fmt(orchestration.p99Ms)} ms`, '', ''],
  ['preview renderer 1024² × 30 steps', `${fmt(renderer.medianMs)} ms (min ${fmt(renderer.minMs)})`, 'budget 1000 ms', `${fmt(renderer.medianMs / 1000, 3)}×`],
];

process.stdout.write(`Atelier benchmarks — ${JOBS} jobs from ${CLIENTS} HTTP clients; Node ${process.version}\n\n`);
const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length), ['figure', 'Atelier', 'reference', 'ratio'][i]!.length));
const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
process.stdout.write(`${line(['figure', 'Atelier', 'reference', 'ratio'])}\n${line(widths.map((w) => '-'.repeat(w)))}\n`);
for (const row of rows) process.stdout.write(`${line(row)}\n`);
