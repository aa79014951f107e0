import { createBuiltinBackend } from '../../../src/backends/builtin/builtin-backend.js';
import { backendContract } from '../../contract/backend-contract.js';

// In-process, so no server-side failures to simulate; it promises identical pixels per seed.
backendContract('builtin preview renderer', async () => ({
  backend: createBuiltinBackend(),
  deterministic: true,
  teardown: async () => {},
}));
