import { describe, expect, it } from 'vitest';
import type { Logger } from '../../src/observability/logger.js';
import type { RetentionResult } from '../../src/service/retention.js';
import { startRetentionSweeps } from '../../src/service/retention-schedule.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const EMPTY: RetentionResult = { assets: 0, uploads: 0, jobInputs: 0, orphans: 0, files: 0, failed: 0, items: [] };

function recordingLogger() {
  const lines: { level: string; msg: string | undefined }[] = [];
  const at = (level: string) => (_obj: object, msg?: string) => void lines.push({ level, msg });
  const logger: Logger = { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
  return { logger, lines };
}

describe('startRetentionSweeps', () => {
  it('sweeps after the first delay, then every interval, never two at once; stop waits for the one in progress', async () => {
    let calls = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const { logger } = recordingLogger();
    const schedule = startRetentionSweeps({
      intervalMs: 10,
      firstDelayMs: 0,
      logger,
      sweep: async () => {
        calls += 1;
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await sleep(25); // longer than the interval
        inFlight -= 1;
        return EMPTY;
      },
    });
    await sleep(150);
    await schedule.stop();
    expect(inFlight).toBe(0);
    expect(maxInFlight).toBe(1);
    expect(calls).toBeGreaterThanOrEqual(3);
    const after = calls;
    await sleep(50);
    expect(calls).toBe(after);
  });

  it('logs a summary only when something was swept, and keeps going after a failed sweep', async () => {
    const { logger, lines } = recordingLogger();
    const results: (() => Promise<RetentionResult>)[] = [
      async () => EMPTY,
      async () => Promise.reject(new Error('database locked')),
      async () => ({ ...EMPTY, assets: 2, files: 8, items: [{ kind: 'asset', id: 'a', keys: [] }, { kind: 'asset', id: 'b', keys: [] }] }),
    ];
    let calls = 0;
    const schedule = startRetentionSweeps({ intervalMs: 5, firstDelayMs: 0, logger, sweep: () => (results[calls++] ?? (async () => EMPTY))() });
    for (let i = 0; i < 100 && calls < 4; i++) await sleep(5);
    await schedule.stop();
    expect(lines).toEqual([
      { level: 'error', msg: 'retention sweep failed' },
      { level: 'info', msg: 'retention sweep deleted 2 assets, 0 uploads, 0 job inputs (8 files)' },
    ]);
  });

  it('an interval of 0 turns sweeping off', async () => {
    let calls = 0;
    const schedule = startRetentionSweeps({ intervalMs: 0, firstDelayMs: 0, logger: recordingLogger().logger, sweep: async () => (calls++, EMPTY) });
    await sleep(30);
    await schedule.stop();
    expect(calls).toBe(0);
  });
});
