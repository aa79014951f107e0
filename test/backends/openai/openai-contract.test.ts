import { createOpenAIImagesBackend } from '../../../src/backends/openai/openai-images-backend.js';
import { backendContract, type BackendFault, type BackendFixture } from '../../contract/backend-contract.js';
import { startFakeOpenAIImages, type FakeOpenAIImages } from '../../helpers/fake-openai-images.js';

interface OpenAIFixture extends BackendFixture {
  readonly fake: FakeOpenAIImages;
}

const KEY = 'sk-contract';
const imageRequests = (fake: FakeOpenAIImages) => fake.requests.filter((r) => r.path.startsWith('/v1/images/')).length;

/** A fresh fake and a backend for `model`; the API reports no steps, so cancel waits for the request instead. */
const setup = (model: string) => async (): Promise<OpenAIFixture> => {
  const fake = await startFakeOpenAIImages({ apiKey: KEY });
  // generationMs is short so the hang case settles fast; normal jobs take tens of ms.
  const backend = createOpenAIImagesBackend({ url: fake.url, apiKey: KEY, model, timeouts: { connectMs: 1000, generationMs: 1500 } });
  return {
    fake,
    backend,
    serverCalls: () => imageRequests(fake),
    longJob: { arm: () => fake.fail({ kind: 'slow', ms: 3000 }), busy: () => imageRequests(fake) > 0 },
    // The held request's socket goes with the server, or alone.
    crashMidJob: () => fake.close(),
    dropConnectionMidJob: () => fake.dropConnections(),
    rejectNext: () => fake.fail({ kind: 'status', status: 400, error: { message: "Invalid value: 'size'.", type: 'invalid_request_error', param: 'size', code: 'invalid_value' } }),
    teardown: async () => {
      await backend.close?.();
      await fake.close();
    },
  };
};

const faults: BackendFault<OpenAIFixture>[] = [
  { name: 'HTTP 500', inject: (f) => f.fake.fail({ kind: 'status', status: 500 }), expected: { code: 'backend_failed', retryable: true } },
  { name: '429 rate limit', inject: (f) => f.fake.fail({ kind: 'status', status: 429, error: { message: 'Rate limit reached', type: 'requests', param: null, code: 'rate_limit_exceeded' } }), expected: { code: 'backend_failed', retryable: true } },
  { name: 'connection dropped', inject: (f) => f.fake.fail({ kind: 'drop' }), expected: { code: 'backend_failed', retryable: true } },
  { name: 'truncated JSON', inject: (f) => f.fake.fail({ kind: 'malformed', what: 'json' }), expected: { code: 'backend_failed', retryable: true } },
  { name: 'items that are no images', inject: (f) => f.fake.fail({ kind: 'malformed', what: 'not-image' }), expected: { code: 'backend_failed', retryable: true } },
  { name: 'fewer items than asked for', inject: (f) => f.fake.fail({ kind: 'malformed', what: 'short' }), expected: { code: 'backend_failed', retryable: true } },
  { name: '400 invalid request', inject: (f) => f.fake.fail({ kind: 'status', status: 400, error: { message: 'Invalid value', type: 'invalid_request_error', param: 'size', code: 'invalid_value' } }), expected: { code: 'backend_rejected', retryable: false } },
  { name: 'no answer within generationMs', inject: (f) => f.fake.fail({ kind: 'slow', ms: 10_000 }), expected: { code: 'backend_timeout', retryable: true } },
];

backendContract('openai (fake Images API, gpt-image-2: any size)', setup('gpt-image-2'), faults);
// Fixed upstream sizes: the adapter asks for the closest allowed size and crops to the job's.
backendContract('openai (fake Images API, dall-e-2: fixed sizes, cropped)', setup('dall-e-2'), faults.slice(0, 1));
