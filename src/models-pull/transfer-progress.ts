import { formatBytes, formatDuration } from './byte-size.js';

export interface TransferProgress {
  /** Bytes in the file so far (they may restart at 0), of `total` when known. */
  update(received: number, total: number | undefined): void;
  /** A line of its own (resuming, retrying…), above the bar. */
  note(message: string): void;
  /** Clears the bar. */
  done(): void;
}

const REDRAW_MS = 200;
const LINE_EVERY_MS = 10_000;
const RATE_WINDOW_MS = 5_000;

/**
 * Progress of a long download: on a TTY one line redrawn in place (bar, bytes, rate, ETA); on
 * a pipe or a log, a plain line at every tenth of the file and at least every 10 s. (The
 * step bar of `generate`, src/cli/progress-bar.ts, counts steps; a download needs a rate over
 * time and works without a known total.)
 */
export function createTransferProgress(stream: NodeJS.WriteStream, label: string, now: () => number = Date.now): TransferProgress {
  let samples: { at: number; bytes: number }[] = [];
  let lastDraw = 0;
  let lastLine = { at: 0, tenth: -1 };
  let drawn = false;

  const rate = (): number | undefined => {
    const first = samples[0];
    const last = samples.at(-1);
    if (!first || !last || last.at - first.at < 500) return undefined;
    return ((last.bytes - first.bytes) * 1000) / (last.at - first.at);
  };
  const describe = (received: number, total: number | undefined): string => {
    const perSecond = rate();
    const speed = perSecond === undefined ? '' : `  ${formatBytes(perSecond)}/s`;
    if (total === undefined || total === 0) return `${formatBytes(received)}${speed}`;
    const eta = perSecond ? `  ETA ${formatDuration(((total - received) * 1000) / perSecond)}` : '';
    return `${String(Math.floor((received * 100) / total)).padStart(3)}%  ${formatBytes(received)} / ${formatBytes(total)}${speed}${eta}`;
  };
  // A pseudo-terminal may report 0 columns.
  const width = () => stream.columns || 80;
  const clear = () => {
    if (drawn) stream.write(`\r${' '.repeat(Math.max(0, width() - 1))}\r`);
    drawn = false;
  };

  return {
    update(received, total) {
      const at = now();
      if (received < (samples.at(-1)?.bytes ?? 0)) samples = [];
      samples.push({ at, bytes: received });
      while (samples.length > 2 && samples[0]!.at < at - RATE_WINDOW_MS) samples.shift();
      const complete = total !== undefined && received >= total;
      if (stream.isTTY) {
        if (at - lastDraw < REDRAW_MS && !complete) return;
        lastDraw = at;
        const cells = 24;
        const filled = total ? Math.min(cells, Math.round((received / total) * cells)) : 0;
        const bar = total ? `[${'#'.repeat(filled)}${'-'.repeat(cells - filled)}] ` : '';
        const line = `${label} ${bar}${describe(received, total)}`;
        stream.write(`\r${line.slice(0, Math.max(20, width() - 1)).padEnd(Math.max(0, width() - 1))}`);
        drawn = true;
        return;
      }
      const tenth = total ? Math.floor((received * 10) / total) : -1;
      if (tenth !== lastLine.tenth || at - lastLine.at >= LINE_EVERY_MS) {
        lastLine = { at, tenth };
        stream.write(`${label} ${describe(received, total)}\n`);
      }
    },
    note(message) {
      clear();
      stream.write(`${message}\n`);
    },
    done() {
      clear();
    },
  };
}
