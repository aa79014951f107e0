import type { Socket } from 'node:net';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STANDARD_SAMPLERS, type Backend } from '../../../src/backends/backend.js';
import { backendContract, contractSpec, expectImages, recorder, settle, until, type BackendFault, type BackendFixture } from '../../contract/backend-contract.js';
import { apiClient, collectEvents } from '../../helpers/api.js';
import { connectRemoteLane } from '../../helpers/remote-lane-backend.js';
import { defaultModels, writeConfigFile } from '../../helpers/server-extras.js';
import { makeTempDir } from '../../helpers/temp-dir.js';
import { startTestServer, type TestServer } from '../../helpers/test-server.js';
import { addWorker } from '../../worker/worker-helpers.js';
import { startLaneWorker, type LaneWorker } from './lane-worker.js';

/**
 * The Backend contract against the remote lane: a real Atelier server whose model `lane-image`
 * runs on the remote backend `lane`, a real reference worker in a child process rendering with
 * the builtin, and the test-side adapter (helpers/remote-lane-backend.ts) submitting each job
 * over HTTP and following it over SSE. "The server" of the contract is the worker: serverCalls
 * counts the jobs that reached its backend, a crash is the worker killed, a rejection is its
 * backend refusing the job.
 *
 * Where the lane differs from an in-process adapter, and why the shared cases still hold:
 * - Sizes: the API takes 64 px and up in multiples of 8, so the suite's sizes are doubled
 *   (sizeScale); the backend's limits are set below the API's own (batch 8, steps 150) so a
 *   job over them is refused by the lane's capability check (capability_unsupported), not by
 *   the API's range check (invalid_parameter). Refusals happen at the API, 422, before any
 *   worker sees the job.
 * - Crash: a killed worker stops heartbeating; the server notices when its lease expires and
 *   classifies the attempt retryable `lease_expired`. One `generate` is one attempt (the runner
 *   retries around any backend), so the adapter reports that classification and cancels the
 *   run; that the server really retries such a job, and the retry succeeds, is shown below the
 *   contract.
 * - Dropped connection: every connection to the server is reset (the adapter's event stream,
 *   the worker's heartbeats and claims) while it keeps listening. The worker retries, the
 *   adapter resumes its stream with Last-Event-ID: the job recovers.
 */

const LANE = 'lane';
const MODEL = 'lane-image';
/**
 * Short leases so a crash is noticed fast; a backoff longer than the file so no retry ever
 * starts (the adapter cancels a retried run; a retry left behind by a failed test must not
 * reach a later test's worker).
 */
const ENV = { LEASE_SECONDS: '1.5', MAX_ATTEMPTS: '2', BACKOFF_BASE_MS: '600000', BACKOFF_MAX_MS: '600000' };

const laneConfig = () => ({
  backends: {
    builtin: { type: 'builtin' },
    [LANE]: { type: 'remote', label: 'Contract lane (remote workers)', modes: ['t2i', 'i2i'], samplers: [...STANDARD_SAMPLERS], maxWidth: 1024, maxHeight: 1024, maxSteps: 100, maxBatch: 4 },
  },
  models: [...defaultModels(), { name: MODEL, backend: LANE, label: 'Contract lane model', modes: ['t2i', 'i2i'], baseResolution: 512, defaultSteps: 20, defaultCfgScale: 7, defaultSampler: 'Euler' }],
});

/** An Atelier server with the lane. */
interface LaneServer {
  readonly t: TestServer;
  /** Resets every connection the server has open (adapters', workers'); it keeps listening. Returns how many. */
  dropConnections(): number;
  close(): Promise<void>;
}

async function startLaneServer(env: Record<string, string> = ENV): Promise<LaneServer> {
  const dir = await makeTempDir('atelier-lane-config-');
  const t = await startTestServer({ ATELIER_CONFIG: await writeConfigFile(dir.dir, laneConfig()), ...env });
  const sockets = new Set<Socket>();
  t.server.app.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return {
    t,
    dropConnections() {
      const open = [...sockets].filter((socket) => !socket.destroyed);
      for (const socket of open) socket.resetAndDestroy();
      return open.length;
    },
    async close() {
      await t.close();
      await dir.remove();
    },
  };
}

/** One worker process serving the lane of `server`, and the adapter. */
interface Lane {
  readonly server: LaneServer;
  readonly worker: LaneWorker;
  readonly backend: Backend;
  /** How many times the adapter opened a lost event stream again. */
  resumes(): number;
  /** Kills the worker and closes the adapter; the server stays. */
  close(): Promise<void>;
}

let workers = 0;
/** The lane of the running test, whose worker log a failure prints. */
let current: Lane | undefined;
beforeEach(({ onTestFailed }) => {
  current = undefined;
  onTestFailed(() => {
    if (current) console.error(`lane worker log (last 40 lines):\n${current.worker.output().split('\n').slice(-40).join('\n')}`);
  });
});

async function startLane(server: LaneServer): Promise<Lane> {
  const { t } = server;
  let resumes = 0;
  const worker = await startLaneWorker(t.url, await addWorker(t, `lane-worker-${++workers}`), [LANE]);
  try {
    const backend = await connectRemoteLane({ url: t.url, token: t.adminToken, models: { t2i: MODEL, i2i: MODEL }, onResume: () => resumes++ });
    return (current = {
      server,
      worker,
      backend,
      resumes: () => resumes,
      async close() {
        await worker.kill();
        await backend.close?.();
      },
    });
  } catch (error) {
    await worker.kill();
    throw error;
  }
}

interface LaneFixture extends BackendFixture {
  readonly lane: Lane;
}

const faults: BackendFault<LaneFixture>[] = [
  {
    name: "the worker's backend fails (CUDA out of memory)",
    inject: (f) => f.lane.worker.next({ kind: 'fail', code: 'backend_failed', retryable: true, message: 'CUDA out of memory' }),
    expected: { code: 'backend_failed', retryable: true },
  },
];

// One server for the whole contract (starting one per test doubled the file's time on a busy
// machine); each test gets its own worker process and adapter, so a killed worker or a
// leftover instruction never reaches the next test.
let shared: Promise<LaneServer> | undefined;
afterAll(async () => {
  await (await shared)?.close();
});

backendContract<LaneFixture>(
  'remote lane (HTTP API + reference worker process + builtin)',
  async () => {
    shared ??= startLaneServer();
    const server = await shared;
    const lane = await startLane(server);
    const { worker } = lane;
    return {
      lane,
      backend: lane.backend,
      deterministic: true,
      sizeScale: 2,
      serverCalls: () => worker.calls(),
      // The worker renders, then holds the outputs: the job stays running, heartbeating, until
      // released (drop) or canceled. The hold makes it long, so few steps (less CPU on a busy
      // machine); the suite acts on the first progress a heartbeat relays.
      longJob: { spec: { steps: 4 }, arm: () => worker.next({ kind: 'hold' }) },
      crashMidJob: () => worker.kill(),
      dropConnectionMidJob: () => {
        const dropped = server.dropConnections();
        worker.release();
        return dropped;
      },
      rejectNext: () => worker.next({ kind: 'fail', code: 'backend_rejected', retryable: false, message: 'The checkpoint refuses this prompt' }),
      teardown: () => lane.close(),
    };
  },
  faults,
);

describe('remote lane: beyond the contract', () => {
  let server: LaneServer | undefined;
  let lane: Lane | undefined;
  let second: LaneWorker | undefined;
  afterEach(async () => {
    await second?.kill();
    await lane?.close();
    await server?.close();
    [server, lane, second] = [undefined, undefined, undefined];
  });

  it('is retried by lease expiry on another worker, and the retry succeeds with the full outputs', async () => {
    // Retries start at once here, so the server's own retry is what runs (no adapter in between).
    server = await startLaneServer({ ...ENV, BACKOFF_BASE_MS: '0', BACKOFF_MAX_MS: '0' });
    lane = await startLane(server);
    const { t } = server;
    const api = apiClient(t, t.adminToken);
    lane.worker.next({ kind: 'hold' });
    const run = await api.submit({ prompt: 'a red lighthouse on a cliff at dusk', model: MODEL, width: 128, height: 96, steps: 4, num_images: 2, seed: 4242 });
    const events = collectEvents(await api.openStream(run.runId), 25_000);
    const { worker } = lane;
    await until('the worker to hold the job', () => worker.holding() === 1, 15_000);
    await worker.kill();
    second = await startLaneWorker(t.url, await addWorker(t, 'second-worker'), [LANE]);
    const done = await api.waitFor(run.runId, undefined, 20_000);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(done.attempts).toBe(2);
    const retrying = (await events).filter((e) => e.event === 'retrying').map((e) => JSON.parse(e.data));
    expect(retrying).toEqual([expect.objectContaining({ attempt: 1, error: expect.objectContaining({ code: 'lease_expired' }) })]);
    expect(second.calls()).toBe(1);
    expect(done.assets.map((a: any) => [a.index, a.metadata.seed, a.metadata.width, a.metadata.height])).toEqual([
      [0, 4242, 128, 96],
      [1, 4243, 128, 96],
    ]);
  });

  it('a dropped connection mid-job is ridden out: the adapter resumes its event stream, the worker completes the same attempt', async () => {
    server = await startLaneServer();
    lane = await startLane(server);
    const { worker, backend } = lane;
    worker.next({ kind: 'hold' });
    const spec = contractSpec(backend, { width: 128, height: 96, numImages: 2 });
    const { ctx, progress } = recorder();
    const job = settle(backend.generate(spec, ctx));
    // A relayed heartbeat proves the adapter's stream is open when it is cut.
    await until('the held job to report progress', () => worker.holding() === 1 && progress.length > 0, 15_000);
    expect(server.dropConnections()).toBeGreaterThan(0);
    worker.release();
    const { value, error } = await job;
    expect(error).toBeUndefined();
    await expectImages(value!, spec);
    expect(lane.resumes()).toBeGreaterThan(0);
    expect(worker.calls()).toBe(1);
  });
});
