import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/**
 * CPU time of processes read from /proc/<pid>/stat, so the bench can say which process a job's
 * CPU goes to (issue 13). utime+stime cover every thread of the process (libuv's pool too).
 * Linux only: elsewhere every figure reads 0 and {@link procAvailable} says so.
 */

/** Clock ticks per second of /proc/<pid>/stat: `getconf CLK_TCK`, 100 on every Linux we run. */
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export const procAvailable = (() => {
  try {
    readFileSync('/proc/self/stat', 'utf8');
    return true;
  } catch {
    return false;
  }
})();

/**
 * utime+stime of `pid` in ms, plus cutime+cstime when `withChildren`: PostgreSQL backends that
 * exit during a run are reaped by the postmaster and land in its cutime, so counting them keeps
 * a group's sum right when its members come and go. 0 when the process is gone.
 */
export function processCpuMs(pid: number, withChildren: boolean): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14 → index 11, stime 12, cutime 13, cstime 14.
    const ticks = Number(fields[11]) + Number(fields[12]) + (withChildren ? Number(fields[13]) + Number(fields[14]) : 0);
    return (ticks * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/**
 * Busy CPU ms of the whole machine (every core; /proc/stat's cpu line minus idle and iowait).
 * Minus what a run's own processes spent, it says how much else ran meanwhile — other test
 * suites on this machine distort a run, and the bench says by how much.
 */
export function machineBusyMs(): number {
  try {
    const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number) as number[];
    return ((user! + nice! + system! + irq! + softirq! + steal!) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Pids whose /proc/<pid>/comm is exactly `name` (what `pgrep -x name` finds). */
export function pidsNamed(name: string): number[] {
  if (!procAvailable) return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

/** A named set of processes, looked up again at each reading (PostgreSQL forks backends). */
export interface ProcessGroup {
  readonly name: string;
  readonly pids: () => readonly number[];
  /** Count reaped children too (see {@link processCpuMs}); off for the bench process itself. */
  readonly withChildren: boolean;
}

/** CPU ms by group name, and the machine's busy ms under the key `machine`. */
export type CpuReading = ReadonlyMap<string, number>;

export function readCpu(groups: readonly ProcessGroup[]): CpuReading {
  return new Map([...groups.map((g): [string, number] => [g.name, g.pids().reduce((ms, pid) => ms + processCpuMs(pid, g.withChildren), 0)]), ['machine', machineBusyMs()]]);
}

/**
 * CPU ms each group spent between two readings, plus `other`: what the rest of the machine
 * spent meanwhile (processes outside the groups).
 */
export function cpuSpent(before: CpuReading, after: CpuReading): Map<string, number> {
  const spent = new Map([...after].filter(([name]) => name !== 'machine').map(([name, ms]): [string, number] => [name, ms - (before.get(name) ?? 0)]));
  const ours = [...spent.values()].reduce((a, b) => a + b, 0);
  spent.set('other', Math.max(0, (after.get('machine') ?? 0) - (before.get('machine') ?? 0) - ours));
  return spent;
}

/** The shared servers every scale-out run uses, server-wide (other clients count too). */
export const sharedServerGroups: ProcessGroup[] = [
  { name: 'postgres', pids: () => pidsNamed('postgres'), withChildren: true },
  { name: 'redis', pids: () => pidsNamed('redis-server'), withChildren: true },
];

export const benchProcessGroup: ProcessGroup = { name: 'bench', pids: () => [process.pid], withChildren: false };
