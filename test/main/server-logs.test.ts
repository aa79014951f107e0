import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STANDARD_SAMPLERS, type Backend } from '../../src/backends/backend.js';
import { UnrecoverableError } from '../../src/errors/signals.js';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { startFakeA1111, type FakeA1111 } from '../helpers/fake-a1111.js';
import { freePort } from '../helpers/spawn-server.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

interface Line {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

const INFO = 30;
const WARN = 40;

/** A pino logger at debug writing JSON lines into an array, as `atelier serve`'s does to stdout. */
function capturedLogger() {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n')) if (text.trim()) lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream) as unknown as FastifyInstance['log'], lines };
}

/** A backend whose every job fails for good, to see a failure logged. */
const failing: Backend = {
  kind: 'failing',
  label: 'always fails',
  capabilities: { modes: ['t2i'], samplers: STANDARD_SAMPLERS, maxWidth: 512, maxHeight: 512, maxSteps: 10, maxBatch: 1, cancel: true, preview: false, hiresFix: false },
  async generate() {
    throw new UnrecoverableError('The model file is corrupt', 'backend_rejected');
  },
};

describe('the server log at info says what happened', () => {
  let t: InjectServer;
  let api: ApiClient;
  let userId: string;
  let a1111: FakeA1111;
  let deadUrl: string;
  const { logger, lines } = capturedLogger();
  const until = async (what: string, found: () => boolean) => {
    const deadline = Date.now() + 20_000;
    while (!found()) {
      if (Date.now() > deadline) throw new Error(`no log line for ${what}:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  beforeAll(async () => {
    a1111 = await startFakeA1111();
    deadUrl = `http://127.0.0.1:${await freePort()}/`;
    t = await startInjectServer(
      {},
      {
        logger,
        backends: new Map([['failing', failing]]),
        configure: (config) => {
          config.backends = { ...config.backends, studio: { type: 'a1111', urls: [a1111.url] }, offline: { type: 'a1111', urls: [deadUrl], connectSeconds: 1 } } as typeof config.backends;
          config.models = [...config.models, { name: 'broken', backend: 'failing', label: 'broken', modes: ['t2i'], baseResolution: 256, defaultSteps: 2, defaultCfgScale: 7, defaultSampler: 'Euler' }];
        },
      },
    );
    const user = await t.addUser('logged');
    userId = user.id;
    api = apiClient(t, user.token);
  });
  afterAll(async () => {
    await t?.close();
    await a1111?.close();
  });

  it('warns about a backend that does not answer at start-up, names its URL, and starts anyway', async () => {
    await until('the start-up probe', () => lines.some((l) => l.backend === 'offline') && lines.some((l) => l.backend === 'studio'));
    const offline = lines.find((l) => l.backend === 'offline')!;
    expect(offline).toMatchObject({ level: WARN, kind: 'a1111', url: deadUrl });
    expect(offline.msg).toContain(`backend offline is unreachable at start-up (${deadUrl})`);
    expect(lines.find((l) => l.backend === 'studio')).toMatchObject({ level: INFO, url: a1111.url.endsWith('/') ? a1111.url : `${a1111.url}/` });
    expect((await api.get('/healthz')).status).toBe(200);
  });

  it('one line per request: method, route, status, ms and user id', async () => {
    const submitted = await api.submit({ prompt: 'a logged lighthouse', width: 64, height: 64, steps: 2, seed: 1 });
    await api.get(`/api/status/${submitted.runId}`);
    await apiClient(t, 'atl_wrong').get('/api/models');
    await api.get('/healthz');

    const submit = lines.filter((l) => l.route === '/api/generate/text-to-image');
    expect(submit).toHaveLength(1);
    expect(submit[0]).toMatchObject({ level: INFO, method: 'POST', status: 202, userId, msg: expect.stringMatching(/^POST \/api\/generate\/text-to-image 202 \d+ ms$/) });
    expect(submit[0]!.ms).toEqual(expect.any(Number));
    // The route template, never the URL (ids, signatures).
    expect(lines.find((l) => l.route === '/api/status/:runId')).toMatchObject({ method: 'GET', status: 200, userId });
    expect(lines.some((l) => typeof l.msg === 'string' && l.msg.includes(submitted.runId) && l.route !== undefined)).toBe(false);
    const refused = lines.find((l) => l.route === '/api/models' && l.status === 401)!;
    expect(refused).toMatchObject({ level: INFO, method: 'GET' });
    expect(refused).not.toHaveProperty('userId');
    // Health probes only at debug.
    expect(lines.find((l) => l.route === '/healthz')).toMatchObject({ level: 20 });
  });

  it('a run: queued, started (after how long a wait), finished with outcome and duration', async () => {
    const done = await api.waitFor((await api.submit({ prompt: 'a logged harbour', width: 64, height: 64, steps: 2, seed: 2 })).runId);
    expect(done.status).toBe('succeeded');
    const of = (msg: string) => lines.filter((l) => l.jobId === done.runId && l.msg === msg);
    await until('the finish', () => of('job finished').length === 1);
    expect(of('job queued')).toEqual([expect.objectContaining({ level: INFO, userId, model: 'preview', mode: 't2i', backend: 'builtin' })]);
    expect(of('job started')).toEqual([expect.objectContaining({ level: INFO, attempt: 1, waitedMs: expect.any(Number) })]);
    const finished = of('job finished')[0]!;
    expect(finished).toMatchObject({ level: INFO, outcome: 'succeeded', model: 'preview' });
    expect(finished.durationMs).toEqual(expect.any(Number));
    expect(finished.totalMs as number).toBeGreaterThanOrEqual(finished.durationMs as number);
  });

  it('a failed run is logged at warn with its error code; a canceled one at info', async () => {
    const failed = await api.waitFor((await api.submit({ model: 'broken', prompt: 'x', width: 64, height: 64 })).runId);
    expect(failed.status).toBe('failed');
    await until('the failure', () => lines.some((l) => l.jobId === failed.runId && l.msg === 'job finished'));
    expect(lines.find((l) => l.jobId === failed.runId && l.msg === 'job finished')).toMatchObject({ level: WARN, outcome: 'failed', code: 'backend_rejected', error: 'The model file is corrupt' });

    const slow = await api.submit({ prompt: 'a long one', width: 2048, height: 2048, steps: 150, num_images: 8 });
    await api.post(`/api/runs/${slow.runId}/cancel`);
    await until('the cancel', () => lines.some((l) => l.jobId === slow.runId && l.msg === 'job finished'));
    expect(lines.find((l) => l.jobId === slow.runId && l.msg === 'job finished')).toMatchObject({ level: INFO, outcome: 'canceled', totalMs: expect.any(Number) });
  });
});
