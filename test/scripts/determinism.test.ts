import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../dist/scripts/determinism.js', import.meta.url));
const run = (args: string[]) =>
  promisify(execFile)(process.execPath, [SCRIPT, ...args], { timeout: 60_000 }).then(
    ({ stdout }) => ({ code: 0, stdout }),
    (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
  );

describe('npm run determinism', () => {
  it('exits 0 against the built-in renderer: same seed same bytes, other seed other bytes', { timeout: 90_000 }, async () => {
    const { code, stdout } = await run([]);
    expect(stdout).toContain('same seed → same bytes: yes; different seed → different bytes: yes');
    expect(code).toBe(0);
  });

  it('exits 1 against a server whose images change on every run', async () => {
    // A stand-in speaking just enough of the API, returning fresh random bytes per download.
    const server = http.createServer((req, res) => {
      const origin = `http://${req.headers.host}`;
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST') return void res.end(JSON.stringify({ runId: 'r1' }));
      if (req.url?.startsWith('/api/status/')) return void res.end(JSON.stringify({ status: 'succeeded', assets: [{ url: `${origin}/img/0` }] }));
      res.setHeader('content-type', 'image/png');
      res.end(randomBytes(64));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const { code, stdout } = await run(['--server', `http://127.0.0.1:${port}`, '--token', 'x']);
      expect(stdout).toContain('same seed → same bytes: NO');
      expect(code).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
