import { createA1111Backend } from '../../../src/backends/a1111/a1111-backend.js';
import { backendContract, type BackendFixture } from '../../contract/backend-contract.js';
import { startFakeA1111, type FakeA1111 } from '../../helpers/fake-a1111.js';

interface A1111Fixture extends BackendFixture {
  readonly fake: FakeA1111;
}

backendContract<A1111Fixture>(
  'a1111 (fake AUTOMATIC1111 web UI)',
  async () => {
    const fake = await startFakeA1111({ stepDelayMs: 5 });
    // generationMs is short so the hang case settles within SETTLE_MS; normal jobs take tens of ms
    // (3 s leaves room for a machine loaded by a whole suite beside it).
    const backend = createA1111Backend({ url: fake.url, timeouts: { connectMs: 1000, generationMs: 3000 }, progressPollMs: 5 });
    return {
      fake,
      backend,
      serverCalls: () => fake.generations().length,
      rejectNext: () => fake.fail({ kind: 'validation', field: 'steps' }),
      crashMidJob: () => fake.close(),
      dropConnectionMidJob: () => fake.dropConnections(),
      teardown: async () => {
        await backend.close?.();
        await fake.close();
      },
    };
  },
  [
    { name: 'HTTP 500 (CUDA out of memory)', inject: (f) => f.fake.fail({ kind: 'status', status: 500 }), expected: { code: 'backend_failed', retryable: true } },
    { name: 'connection dropped mid-run', inject: (f) => f.fake.fail({ kind: 'drop', afterSteps: 1 }), expected: { code: 'backend_failed', retryable: true } },
    { name: 'the server process drops the connection mid-job', inject: (f) => f.fake.fail({ kind: 'hangup', afterSteps: 1 }), expected: { code: 'backend_failed', retryable: true } },
    { name: 'the server crashes mid-job (sockets destroyed)', inject: (f) => f.fake.fail({ kind: 'crash', afterSteps: 1 }), expected: { code: 'backend_failed', retryable: true } },
    { name: 'truncated JSON', inject: (f) => f.fake.fail({ kind: 'malformed', what: 'json' }), expected: { code: 'backend_failed', retryable: true } },
    { name: 'images that are no images', inject: (f) => f.fake.fail({ kind: 'malformed', what: 'not-image' }), expected: { code: 'backend_failed', retryable: true } },
    { name: 'no images at all', inject: (f) => f.fake.fail({ kind: 'malformed', what: 'no-images' }), expected: { code: 'backend_failed', retryable: true } },
    { name: '422 validation error', inject: (f) => f.fake.fail({ kind: 'validation', field: 'steps' }), expected: { code: 'backend_rejected', retryable: false } },
    { name: 'no answer within generationMs', inject: (f) => f.fake.fail({ kind: 'slow', ms: 10_000 }), expected: { code: 'backend_timeout', retryable: true } },
  ],
);
