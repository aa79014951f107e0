import { createComfyUIBackend } from '../../../src/backends/comfyui/comfyui-backend.js';
import { backendContract, type BackendFixture } from '../../contract/backend-contract.js';
import { startFakeComfyUI, type FakeComfyUI } from '../../helpers/fake-comfyui/fake-comfyui.js';

interface ComfyFixture extends BackendFixture {
  readonly fake: FakeComfyUI;
}

// The same contract against each ComfyUI the fake can be (FakeVersion): what the adapter must
// do does not change with the server's age.
for (const version of ['current', 'v0.1.0', '2023'] as const) backendContract<ComfyFixture>(
  `comfyui ${version} (fake ComfyUI, default SD1.5 workflows)`,
  async () => {
    const fake = await startFakeComfyUI({ stepDelayMs: 5, version });
    // generationMs is short so the hang case settles fast; normal jobs take tens of ms.
    const backend = createComfyUIBackend({ url: fake.url, timeouts: { connectMs: 500, generationMs: 3000 }, pollIntervalMs: 20 });
    return {
      fake,
      backend,
      serverCalls: () => fake.prompts.length + fake.uploads.length,
      rejectNext: () => fake.rejectNextPrompt(),
      crashMidJob: () => fake.close(),
      dropConnectionMidJob: () => fake.dropConnections(),
      teardown: async () => {
        await backend.close?.();
        await fake.close();
      },
    };
  },
  [
    { name: 'HTTP 500 on POST /prompt', inject: (f) => f.fake.failNextPrompt(500), expected: { code: 'backend_failed', retryable: true } },
    { name: 'node error while executing', inject: (f) => f.fake.nodeError(), expected: { code: 'backend_failed', retryable: false } },
    { name: 'history without images', inject: (f) => f.fake.malformedHistory('no-images'), expected: { code: 'backend_failed', retryable: false } },
    { name: '/view returns a JPEG', inject: (f) => f.fake.malformedHistory('not-png'), expected: { code: 'backend_failed', retryable: false } },
    { name: '/view 404 for a listed file', inject: (f) => f.fake.malformedHistory('missing-file'), expected: { code: 'backend_failed', retryable: true } },
    { name: 'a prompt that never finishes', inject: (f) => f.fake.neverFinish(), expected: { code: 'backend_timeout', retryable: true } },
  ],
);
