import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The playground is built into dist/web, which `atelier serve` serves at `/`. In development,
 * `npx vite --config web/vite.config.ts` proxies the API to a running server on :8080.
 */
export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    proxy: Object.fromEntries(['/api', '/media', '/v1', '/openapi.json', '/healthz', '/readyz'].map((path) => [path, 'http://127.0.0.1:8080'])),
  },
});
