/**
 * A one-line progress bar on a TTY (redrawn in place); on a pipe, one line per 10%.
 */
export function createProgressBar(stream: NodeJS.WriteStream, label: string) {
  let lastDecile = -1;
  return {
    update(step: number, total: number, note = ''): void {
      const fraction = total > 0 ? Math.min(1, step / total) : 0;
      if (stream.isTTY) {
        const width = 30;
        const filled = Math.round(fraction * width);
        stream.write(`\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}% ${step}/${total} ${note}`.padEnd(80));
        return;
      }
      const decile = Math.floor(fraction * 10);
      if (decile !== lastDecile) {
        lastDecile = decile;
        stream.write(`${label} ${Math.round(fraction * 100)}% (${step}/${total})${note ? ` ${note}` : ''}\n`);
      }
    },
    done(message: string): void {
      stream.write(`${stream.isTTY ? '\r'.padEnd(81) + '\r' : ''}${message}\n`);
    },
  };
}
