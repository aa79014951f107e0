import type { Backend } from '../backends/backend.js';
import type { Logger } from '../observability/logger.js';
import type { Config } from './config-schema.js';
import { redactUrlPassword } from '../lib/redact-url.js';

/** How long the start-up check waits for an instance that does not answer at once. */
export const STARTUP_PROBE_TIMEOUT_MS = 10_000;

/**
 * Asks every instance of every network backend (ComfyUI, AUTOMATIC1111, OpenAI) once, at
 * start-up, whether it answers, and logs each: reachable at info, unreachable at warn with its
 * URL — so a typo in a backend URL, or a GPU box that is off, shows in the log at once instead of
 * as the first job's failure. Never fails the start: routing keeps checking on its own and takes
 * an instance in when it answers. Resolves when every answer (or the timeout, or `signal`) is in.
 *
 * @example void probeNetworkBackends(runnable, config, logger, closing.signal)
 */
export async function probeNetworkBackends(backends: ReadonlyMap<string, Backend>, config: Pick<Config, 'backends'>, logger: Logger, signal: AbortSignal): Promise<void> {
  const deadline = AbortSignal.any([signal, AbortSignal.timeout(STARTUP_PROBE_TIMEOUT_MS)]);
  await Promise.all(
    [...backends].map(async ([name, backend]) => {
      if (!backend.probeInstances) return;
      const answers = await backend.probeInstances(deadline).catch(() => undefined);
      if (signal.aborted || !answers) return;
      const settings = config.backends[name];
      const urls = settings && 'urls' in settings ? (settings.urls as readonly string[]) : [];
      answers.forEach(({ label, healthy }, i) => {
        const url = urls[i] === undefined ? undefined : redactUrlPassword(urls[i]);
        const fields = { backend: name, kind: backend.kind, instance: label, ...(url ? { url } : {}) };
        if (healthy) logger.info(fields, `backend ${name} answers at ${url ?? label}`);
        else logger.warn(fields, `backend ${name} is unreachable at start-up (${url ?? label}); its jobs cannot run until it answers`);
      });
    }),
  );
}
