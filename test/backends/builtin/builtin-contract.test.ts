import { createBuiltinBackend } from '../../../src/backends/builtin/builtin-backend.js';
import { backendContract } from '../../contract/backend-contract.js';

// In-process, so no server-side failures to simulate and no server to reject a request, crash or
// drop a connection (no fixture hooks: those cases skip); it promises identical pixels per seed.
backendContract('builtin preview renderer', async () => ({
  backend: createBuiltinBackend(),
  deterministic: true,
  teardown: async () => {},
}));
